#!/usr/bin/env python3
"""Generates demo/tickets.jsonl: 500 bank support tickets for the Sluice demo.

The output is committed; this script exists so that anyone can see how it was made and
regenerate it. It is deterministic: one seeded random.Random drives every choice, and Python's
random.Random gives the same sequence for the same seed on every 3.x version, so the file
reproduces byte for byte (`--check` verifies that).

Each line is one JSON object:
  {"id": "T-10001", "channel": "email|chat|app|phone", "customer": "...", "text": "...",
   "expected_category": "...", "urgent": false}
`expected_category` is the hidden ground truth (the demo's accuracy line); the demo never sends
it to the server. When a ticket mentions two topics, the first one is the expected category.

Mix: about 65 % English and 35 % Russian; 15 tickets (3 %) are urgent (fraud in progress, a
traveller stranded with a blocked card, a transfer that must arrive today). Texts vary by channel
(long polite e-mails, terse chats with typos, app forms, call transcripts) and by tone.

Usage: python3 demo/make_tickets.py [--out demo/tickets.jsonl] [--seed 20261129] [--check]
"""

import argparse
import json
import re
import sys
from pathlib import Path
import random

SEED = 20261129
COUNT = 500
FIRST_ID = 10001

# Exact counts per category (they sum to COUNT), shuffled into ticket order.
CATEGORY_COUNTS = {
    "double_charge": 80,
    "missing_transfer": 80,
    "early_repayment": 55,
    "card_blocked": 70,
    "login_problem": 70,
    "phone_change": 45,
    "fraud": 50,
    "other": 50,
}
# Urgent tickets per category: 15 of 500 = 3 %.
URGENT_COUNTS = {"fraud": 9, "card_blocked": 3, "missing_transfer": 3}
RUSSIAN_SHARE = 0.35
CHANNELS = [("email", 30), ("chat", 30), ("app", 25), ("phone", 15)]
TWO_TOPIC_RATE = 0.10
# Per-word typo probability by channel: people type fast in chats, transcripts have none.
TYPO_RATE = {"chat": 0.06, "app": 0.03, "email": 0.012, "phone": 0.0}

# ---------------------------------------------------------------------------------------------
# Slot fillers.

MERCHANTS = [
    "Amazon", "Uber", "Glovo", "Wolt", "Netflix", "Spotify", "Magnum", "Yandex Go", "Starbucks",
    "Booking.com", "Steam", "Apple.com/bill", "Ozon", "Wildberries", "Shell", "Lukoil", "IKEA",
    "Zara", "AliExpress", "Google Play", "Air Astana", "Small Planet Cafe", "Sulpak", "Technodom",
    "H&M", "McDonald's", "Coffee Boom", "KFC", "Chocofamily", "Aviasales", "Lamoda", "Airbnb",
]
# Places with a card terminal (the "terminal showed an error" stories).
SHOPS = ["Magnum", "Starbucks", "Shell", "Lukoil", "IKEA", "Zara", "Sulpak", "Technodom", "H&M",
         "McDonald's", "Coffee Boom", "KFC", "Small Planet Cafe", "Small", "Galmart", "Burger King"]
SUBSCRIPTIONS = ["Netflix", "Spotify", "Apple.com/bill", "Google Play", "Yandex Plus",
                 "YouTube Premium", "iCloud", "Kinopoisk", "ChatGPT Plus"]
CITIES_EN = ["Almaty", "Astana", "Shymkent", "Karaganda", "Moscow", "London", "Berlin", "Aktobe"]
# Russian city names in the prepositional case ("в Астане").
CITIES_RU_PREP = ["Алматы", "Астане", "Шымкенте", "Караганде", "Москве", "Актобе", "Павлодаре"]
COUNTRIES_EN = ["Turkey", "Georgia", "the UAE", "Thailand", "Italy", "Spain", "Germany", "Egypt"]
COUNTRIES_RU_PREP = ["Турции", "Грузии", "ОАЭ", "Таиланде", "Италии", "Испании", "Германии", "Египте"]
DEVICES = ["iPhone 13", "iPhone 15 Pro", "Samsung A52", "Xiaomi Redmi Note 12", "Pixel 7",
           "Huawei P30", "Samsung S23"]
RELATIVES_EN = ["my brother", "my mother", "my friend", "my husband", "my wife", "a client", "my son"]

EN_FIRST_M = ["James", "Michael", "David", "Daniel", "Thomas", "Ryan", "Alex", "Chris", "Mark",
              "Peter", "Samuel", "Oliver", "Kevin", "Arman", "Timur", "Ali", "Omar", "Lucas"]
EN_FIRST_F = ["Emily", "Sarah", "Laura", "Anna", "Sophie", "Maria", "Jessica", "Kate", "Olivia",
              "Emma", "Hannah", "Aigerim", "Dana", "Lina", "Grace", "Chloe", "Nina", "Zoe"]
EN_LAST = ["Carter", "Smith", "Johnson", "Brown", "Miller", "Wilson", "Taylor", "Anderson",
           "Thompson", "Walker", "Young", "King", "Wright", "Baker", "Nelson", "Hill", "Green",
           "Evans", "Turner", "Collins", "Parker", "Edwards", "Morris", "Murphy", "Cook", "Bailey",
           "Omarov", "Sultanov", "Kim", "Petrov", "Novak", "Schmidt", "Rossi", "Garcia"]
RU_FIRST_M = ["Дмитрий", "Сергей", "Алексей", "Данияр", "Ерлан", "Тимур", "Руслан", "Арман",
              "Бауыржан", "Андрей", "Максим", "Нурлан", "Игорь", "Марат", "Владимир", "Азамат"]
RU_FIRST_F = ["Айгерим", "Асель", "Мадина", "Алия", "Анна", "Ольга", "Наталья", "Екатерина",
              "Жанна", "Динара", "Ирина", "Светлана", "Гульнара", "Татьяна", "Камила", "Елена"]
# (masculine, feminine) surname forms.
RU_LAST = [("Иванов", "Иванова"), ("Сапаров", "Сапарова"), ("Ковалёв", "Ковалёва"),
           ("Ахметов", "Ахметова"), ("Ким", "Ким"), ("Нурланов", "Нурланова"),
           ("Смирнов", "Смирнова"), ("Жумабаев", "Жумабаева"), ("Попов", "Попова"),
           ("Кузнецов", "Кузнецова"), ("Абенов", "Абенова"), ("Морозов", "Морозова"),
           ("Ли", "Ли"), ("Исаев", "Исаева"), ("Волков", "Волкова"), ("Тулегенов", "Тулегенова"),
           ("Соколов", "Соколова"), ("Бекмуратов", "Бекмуратова"), ("Павлов", "Павлова")]

TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya"]))
EMAIL_DOMAINS = ["gmail.com", "mail.ru", "yandex.kz", "outlook.com", "inbox.kz", "icloud.com"]

MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
MONTHS_RU_GEN = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                 "сентября", "октября", "ноября", "декабря"]
WEEKDAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# "в прошлый понедельник" / "в прошлую среду": (adjective, accusative weekday).
WEEKDAYS_RU = [("прошлый", "понедельник"), ("прошлый", "вторник"), ("прошлую", "среду"),
               ("прошлый", "четверг"), ("прошлую", "пятницу"), ("прошлую", "субботу"),
               ("прошлое", "воскресенье")]

# IBAN layouts: country, length of the BBAN, and a maker for it.
def _digits(rng, n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def _letters(rng, n):
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(n))


IBAN_BBAN = {
    "KZ": lambda rng: _digits(rng, 3) + rng.choice(["K", "0", "8"]) + _digits(rng, 12),
    "DE": lambda rng: _digits(rng, 18),
    "GB": lambda rng: rng.choice(["NWBK", "BARC", "HBUK", "MIDL"]) + _digits(rng, 14),
    "GE": lambda rng: rng.choice(["BG", "TB"]) + _digits(rng, 16),
}


def iban_check_digits(country, bban):
    """ISO 13616 check digits: 98 - (BBAN + country + "00" as a number) mod 97."""
    rearranged = bban + country + "00"
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return "%02d" % (98 - int(number) % 97)


def make_iban(rng):
    country = rng.choice(["KZ", "KZ", "KZ", "DE", "GB", "GE"])
    bban = IBAN_BBAN[country](rng)
    iban = country + iban_check_digits(country, bban) + bban
    if rng.random() < 0.5:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


def make_account(rng, lang):
    """An account reference: mostly IBANs, sometimes a Russian 20-digit account number."""
    if lang == "ru" and rng.random() < 0.3:
        return "40817810" + _digits(rng, 12)
    return make_iban(rng)


def make_phone(rng):
    kind = rng.randrange(6)
    if kind == 0:
        return "+7 7%s %s %s %s" % (_digits(rng, 2), _digits(rng, 3), _digits(rng, 2), _digits(rng, 2))
    if kind == 1:
        return "+7 (7%s) %s-%s-%s" % (_digits(rng, 2), _digits(rng, 3), _digits(rng, 2), _digits(rng, 2))
    if kind == 2:
        return "87%s%s" % (_digits(rng, 2), _digits(rng, 7))
    if kind == 3:
        return "8 7%s %s %s" % (_digits(rng, 2), _digits(rng, 3), _digits(rng, 4))
    if kind == 4:
        return "+44 7700 9%s" % _digits(rng, 5)
    return "+49 15%s %s" % (_digits(rng, 1), _digits(rng, 8))


def make_card(rng, lang):
    last4 = _digits(rng, 4)
    if lang == "en":
        return rng.choice(["**** %s", "*%s", "ending in %s", "ending %s", "(last 4 digits %s)",
                           "xxxx-%s"]) % last4
    return rng.choice(["**** %s", "*%s", "с окончанием %s", "…%s", "(последние цифры %s)"]) % last4


def make_loan(rng, lang):
    if lang == "en":
        return rng.choice(["KD-%s-%s" % (rng.choice(["2022", "2023", "2024", "2025"]), _digits(rng, 6)),
                           "number %s-%s" % (_digits(rng, 2), _digits(rng, 6)),
                           "#%s" % _digits(rng, 8),
                           "LN%s" % _digits(rng, 7)])
    return rng.choice(["№ КД/%s/%s" % (rng.choice(["2022", "2023", "2024", "2025"]), _digits(rng, 5)),
                       "№%s" % _digits(rng, 8),
                       "%s-ПК-%s" % (_digits(rng, 4), rng.choice(["2023", "2024", "2025"])),
                       "КД-%s" % _digits(rng, 7)])


def _group_thousands(n, sep):
    s = str(n)
    groups = []
    while s:
        groups.insert(0, s[-3:])
        s = s[:-3]
    return sep.join(groups)


def make_amount(rng, lang):
    cur = rng.choice(["USD", "EUR", "GBP", "KZT", "KZT", "KZT", "RUB", "RUB"])
    if cur in ("USD", "EUR", "GBP"):
        whole = rng.choice([rng.randint(3, 99), rng.randint(10, 600), rng.randint(100, 3500)])
        cents = rng.choice([0, 0, 99, 50, rng.randint(1, 99)])
    elif cur == "KZT":
        whole = rng.choice([rng.randint(5, 99) * 100, rng.randint(1, 90) * 1000, rng.randint(500, 950000)])
        cents = 0
    else:
        whole = rng.choice([rng.randint(1, 99) * 100, rng.randint(100, 300000)])
        cents = 0
    if lang == "en":
        num = _group_thousands(whole, ",") + (".%02d" % cents if cents else "")
        if cur == "USD":
            return rng.choice(["$" + num, num + " USD", "USD " + num])
        if cur == "EUR":
            return rng.choice(["€" + num, num + " EUR", "EUR " + num])
        if cur == "GBP":
            return rng.choice(["£" + num, num + " GBP"])
        if cur == "KZT":
            return rng.choice([num + " KZT", num + " tenge", "KZT " + num, num + " ₸"])
        return rng.choice([num + " RUB", num + " rubles"])
    num = _group_thousands(whole, rng.choice([" ", " ", ""])) + (",%02d" % cents if cents else "")
    if cur == "USD":
        return rng.choice(["$" + num, num + " $", num + " USD"])
    if cur == "EUR":
        return rng.choice([num + " €", num + " EUR", "€" + num])
    if cur == "GBP":
        return rng.choice([num + " £", num + " GBP"])
    if cur == "KZT":
        return rng.choice([num + " ₸", num + " тг", num + " тенге", num + " KZT"])
    return rng.choice([num + " руб.", num + " ₽", num + " р.", num + " RUB"])


def make_big_amount(rng, lang):
    """A large sum (loans, rent deposits, surgery), in the currencies such sums are paid in."""
    cur = rng.choice(["KZT", "KZT", "KZT", "RUB", "USD"])
    if cur == "KZT":
        n = rng.randint(20, 3000) * 5000
    elif cur == "RUB":
        n = rng.randint(10, 600) * 5000
    else:
        n = rng.randint(10, 400) * 100
    num = _group_thousands(n, "," if lang == "en" else rng.choice([" ", " "]))
    if lang == "en":
        return {"KZT": rng.choice([num + " KZT", num + " tenge"]), "RUB": num + " RUB", "USD": "$" + num}[cur]
    return {"KZT": rng.choice([num + " тг", num + " тенге", num + " ₸"]),
            "RUB": rng.choice([num + " руб.", num + " ₽"]), "USD": num + " $"}[cur]


def make_date(rng, lang):
    day = rng.randint(1, 28)
    month = rng.randrange(12)
    if lang == "en":
        kind = rng.randrange(8)
        if kind == 0:
            return "yesterday"
        if kind == 1:
            return "last " + rng.choice(WEEKDAYS_EN)
        if kind == 2:
            return "on %s %d" % (MONTHS_EN[month], day)
        if kind == 3:
            return "on %02d.%02d.2026" % (day, month + 1)
        if kind == 4:
            return "on %02d/%02d" % (month + 1, day)
        if kind == 5:
            return "%d days ago" % rng.randint(2, 9)
        if kind == 6:
            return "this morning"
        return "on the %d%s" % (day, {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(day, "th"))
    kind = rng.randrange(8)
    if kind == 0:
        return "вчера"
    if kind == 1:
        return "позавчера"
    if kind == 2:
        return "%d %s" % (day, MONTHS_RU_GEN[month])
    if kind == 3:
        return "%02d.%02d.2026" % (day, month + 1)
    if kind == 4:
        adj, name = rng.choice(WEEKDAYS_RU)
        return "в %s %s" % (adj, name)
    if kind == 5:
        return "сегодня утром"
    if kind == 6:
        return "%d-го числа" % day
    return "%d.%02d" % (day, month + 1)


def make_since(rng):
    """An English "since ..." phrase (make_date's "on March 3" does not fit after "since")."""
    day = rng.randint(1, 28)
    return rng.choice(["since yesterday", "since last " + rng.choice(WEEKDAYS_EN),
                       "since %s %d" % (rng.choice(MONTHS_EN), day), "since this morning",
                       "for %d days now" % rng.randint(2, 6)])


def make_ref(rng):
    return rng.choice(["TRX", "REF", "PAY", "OP"]) + _digits(rng, rng.choice([8, 10, 12]))


def make_customer(rng, lang):
    """A (display name, first name, gender, e-mail) tuple; gender 0 = male, 1 = female."""
    gender = rng.randrange(2)
    if lang == "en":
        first = rng.choice(EN_FIRST_F if gender else EN_FIRST_M)
        last = rng.choice(EN_LAST)
        latin_first, latin_last = first.lower(), last.lower()
    else:
        first = rng.choice(RU_FIRST_F if gender else RU_FIRST_M)
        last = rng.choice(RU_LAST)[gender]
        latin_first = "".join(TRANSLIT.get(c, c) for c in first.lower())
        latin_last = "".join(TRANSLIT.get(c, c) for c in last.lower())
    handle = rng.choice([
        "%s.%s" % (latin_first, latin_last),
        "%s%s" % (latin_first[0], latin_last),
        "%s_%s%s" % (latin_first, latin_last[:3], _digits(rng, 2)),
        "%s%s" % (latin_last, _digits(rng, 4)),
    ])
    return "%s %s" % (first, last), first, gender, handle + "@" + rng.choice(EMAIL_DOMAINS)


# ---------------------------------------------------------------------------------------------
# Text templates. {slot} is filled from the slot makers; {a|b} picks the masculine or feminine
# form of a Russian past-tense verb by the customer's gender.
#
# Per category and language:
#   body      - the main complaint or question, one or two sentences
#   short     - a terse chat message standing alone
#   detail    - optional extra sentences
#   secondary - a short mention of this topic inside a ticket about something else
#   urgent    - for urgent tickets only

T = {
    "double_charge": {
        "en": {
            "body": [
                "I was charged twice for the same purchase at {merchant} {date}. Amount {amount}, card {card}.",
                "There are two identical transactions of {amount} from {merchant} on my card {card}, but I only paid once.",
                "{merchant} charged me {amount} two times {date}. Please refund the duplicate.",
                "Double charge! {amount} at {merchant} appears twice in my statement.",
                "My payment to {merchant} went through twice, {amount} each time. I need one of them reversed.",
                "I paid {amount} at {merchant} {date} and the money was debited twice from card {card}.",
                "The terminal at {shop} showed an error so I paid again, and now I see both payments of {amount} debited.",
                "My {subscription} subscription was billed twice this month ({amount} x2).",
                "I see a duplicate debit of {amount} on card {card} for a single order at {merchant}.",
                "Money was charged twice for one order. {merchant}, {amount}, {date}.",
                "I bought something online at {merchant} for {amount} and the same amount has been taken from my account twice. The second charge appeared {date}.",
            ],
            "short": [
                "charged twice at {merchant}", "double charge {amount}", "why 2 payments {merchant}??",
                "{merchant} took {amount} twice", "duplicate payment on card {card}",
            ],
            "detail": [
                "I have the receipt.", "Screenshot attached.",
                "The merchant says it is the bank's problem and I should contact you.",
                "It has been {days} days already.", "Order number #{order}.",
                "Both transactions have the same time stamp.",
                "I only have one receipt, so the second debit is definitely wrong.",
            ],
            "secondary": [
                "Also, {merchant} charged me twice for the same order.",
                "By the way, I was double charged {amount} at {merchant} too.",
            ],
        },
        "ru": {
            "body": [
                "С карты {card} дважды списали {amount} за одну покупку в {merchant} {date}.",
                "{Оплатил|Оплатила} в {merchant} {amount}, а деньги списались два раза.",
                "Двойное списание! {merchant}, {amount}, карта {card}.",
                "{date} в {merchant} прошло два одинаковых платежа по {amount}, хотя я {платил|платила} один раз.",
                "Терминал в {shop} выдал ошибку, я {оплатил|оплатила} повторно, а теперь вижу оба списания по {amount}.",
                "Подписка {subscription} в этом месяце списалась дважды, по {amount}.",
                "Верните, пожалуйста, лишнее списание {amount}: покупка в {merchant} была одна.",
                "Деньги за один заказ в {merchant} списали два раза, {amount}.",
                "По карте {card} задвоилась операция в {merchant} на {amount}. Прошу вернуть лишнее.",
            ],
            "short": [
                "списали дважды {merchant}", "двойное списание {amount}", "2 раза сняли деньги {merchant}",
                "задвоился платеж {amount}",
            ],
            "detail": [
                "Чек {сохранил|сохранила}.", "Скриншот прилагаю.",
                "В магазине говорят, что это проблема банка.", "Прошло уже {days} дня.",
                "Номер заказа {order}.", "У обеих операций одинаковое время.",
            ],
            "secondary": [
                "И ещё: в {merchant} дважды списали оплату.",
                "Кстати, в {merchant} с меня тоже два раза сняли {amount}.",
            ],
        },
    },
    "missing_transfer": {
        "en": {
            "body": [
                "I sent {amount} to account {iban} {date} and the recipient still hasn't received it.",
                "A transfer of {amount} is not showing up. I sent it {date} from my card {card}.",
                "My salary of {amount} did not arrive. The employer says it was sent {date}.",
                "I cannot see the transfer of {amount} that {relative} sent me {date}.",
                "The money left my account ({amount}) but never reached {iban}. Where is it?",
                "My transfer to {phone} is stuck in 'processing' {since}.",
                "International transfer of {amount} to {iban}: your status says completed, but the beneficiary bank has nothing.",
                "Where is my money? I transferred {amount} {date} and there is still nothing on the other side.",
                "I topped up my account with {amount} from another bank {date} and the money hasn't been credited.",
                "I made a transfer {date}, reference {ref}, amount {amount}. The recipient has not got it yet.",
            ],
            "short": [
                "transfer not arrived", "where is my transfer {amount}", "money sent {date} still not there",
                "transfer to {iban} missing",
            ],
            "detail": [
                "The recipient's bank says nothing came in.", "Reference: {ref}.",
                "I have the receipt from the app.", "The amount was already deducted from my balance.",
                "I need this money to pay rent.", "It normally takes a few minutes.",
            ],
            "secondary": [
                "And a transfer of {amount} I sent {date} still hasn't arrived.",
                "Also, my incoming transfer from {relative} is missing.",
            ],
            "urgent": [
                "I transferred {big_amount} for my mother's surgery {date} and the hospital has not received it. The operation is tomorrow morning. Please trace it URGENTLY!",
                "The deposit for my apartment ({big_amount}) didn't reach the landlord's account {iban}. If it is not there today I lose the flat. Please help right now!",
            ],
        },
        "ru": {
            "body": [
                "{date} {отправил|отправила} {amount} на счёт {iban}, а получатель до сих пор не получил деньги.",
                "Не вижу перевод на {amount}, отправленный мне {date}.",
                "Зарплата {amount} не пришла, работодатель говорит, что перечислил {date}.",
                "Деньги ушли с карты {card}, а до получателя ({phone}) не дошли. Сумма {amount}.",
                "Перевод на {amount} висит в статусе «в обработке» уже {days} дня.",
                "Международный перевод {amount} на {iban}: у вас статус «исполнен», а в банке получателя ничего нет.",
                "Где мои деньги? {Перевёл|Перевела} {amount} {date}, до сих пор не зачислены.",
                "{Пополнил|Пополнила} счёт на {amount} из другого банка {date}, деньги так и не поступили.",
                "Номер операции {ref}, сумма {amount}. Получатель перевод не видит.",
            ],
            "short": [
                "перевод не дошел", "где мой перевод {amount}", "деньги не пришли на счет",
                "перевод завис {amount}",
            ],
            "detail": [
                "Банк получателя говорит, что ничего не поступало.", "Номер операции {ref}.",
                "Квитанция из приложения есть.", "С моего баланса сумма уже списана.",
                "Обычно перевод проходит за пару минут.",
            ],
            "secondary": [
                "Ещё не дошёл перевод на {amount}.",
                "И перевод, который я {отправил|отправила} {date}, так и не пришёл.",
            ],
            "urgent": [
                "{date} {перевёл|перевела} {big_amount} на операцию маме, а клиника деньги не получила. Операция завтра утром, срочно найдите перевод!",
                "Залог за квартиру {big_amount} не дошёл до хозяина на счёт {iban}. Если сегодня не придёт, я {потерял|потеряла} квартиру. Помогите СРОЧНО!",
            ],
        },
    },
    "early_repayment": {
        "en": {
            "body": [
                "I want to close my loan {loan} early. What amount do I need to pay?",
                "Please tell me the full early repayment amount for loan {loan} as of today.",
                "I'd like to make a partial early repayment of {big_amount} on my mortgage. Will the monthly payment or the term go down?",
                "Is there a fee for repaying my car loan early? Contract {loan}.",
                "I want to pay off the rest of my credit ({big_amount}) this month and close the contract.",
                "How do I submit an early repayment request in the app? I can't find the button.",
                "I paid {big_amount} extra on loan {loan} {date} but the repayment schedule hasn't changed.",
                "I want to close the loan early. What do I need to do and can I do it online?",
            ],
            "short": [
                "how to close loan early", "early repayment {loan}", "want to pay off my loan",
                "close credit early pls",
            ],
            "detail": [
                "I got a bonus at work and want to use it for this.",
                "Please also send me the new payment schedule.", "The next payment is due next week.",
                "I don't want to pay any more interest than necessary.",
            ],
            "secondary": [
                "Also, I'd like to know how to repay my loan early.",
                "And what is the early repayment amount on loan {loan}?",
            ],
        },
        "ru": {
            "body": [
                "Хочу досрочно погасить кредит по договору {loan}. Какую сумму нужно внести?",
                "Подскажите сумму полного досрочного погашения по кредиту {loan} на сегодняшний день.",
                "Планирую частичное досрочное погашение {big_amount}. Уменьшится платёж или срок?",
                "Есть ли комиссия за досрочное погашение автокредита? Договор {loan}.",
                "Хочу закрыть кредит раньше срока, осталось около {big_amount}.",
                "{Внёс|Внесла} {big_amount} в счёт досрочного погашения {date}, а график платежей не изменился.",
                "Как оформить заявление на досрочное погашение в приложении? Не нахожу кнопку.",
            ],
            "short": [
                "досрочное погашение как?", "хочу закрыть кредит", "досрочно погасить {loan}",
            ],
            "detail": [
                "{Получил|Получила} премию и хочу закрыть долг.",
                "Пришлите, пожалуйста, новый график.", "Следующий платёж через неделю.",
            ],
            "secondary": [
                "Заодно подскажите, как досрочно погасить кредит.",
                "И какая сумма для досрочного погашения по договору {loan}?",
            ],
        },
    },
    "card_blocked": {
        "en": {
            "body": [
                "My card {card} was blocked and I don't know why.",
                "Card {card} is declined everywhere {since}. The app says the card is blocked.",
                "I entered the wrong PIN three times and now my card is blocked. How do I unblock it?",
                "The ATM in {city} kept my card and now it shows as blocked in the app.",
                "You blocked my card while I'm travelling in {country}. I can't pay for anything!",
                "Why is my card frozen? I tried to pay {amount} at {merchant} and it was declined.",
                "Please unblock card {card}. It was blocked after an online purchase at {merchant}.",
                "My card got blocked for 'suspicious activity' but all the payments were mine.",
                "My debit card stopped working {date}, the app shows 'card blocked'.",
            ],
            "short": [
                "card blocked", "my card doesnt work, blocked?", "unblock my card {card}",
                "card declined blocked why",
            ],
            "detail": [
                "I need the card for my salary.", "I already called the hotline and waited 40 minutes.",
                "I have no other card with me.", "The card is valid until 2028.",
            ],
            "secondary": [
                "On top of that, my card {card} is now blocked.",
                "And my card got blocked as well.",
            ],
            "urgent": [
                "I'm at the airport in {country} and my only card {card} has just been blocked. My flight is in 2 hours and I can't pay for anything. Please unblock it NOW.",
                "Stuck abroad in {country} with a blocked card, the hotel wants payment tonight and I have no cash. Please help urgently!",
            ],
        },
        "ru": {
            "body": [
                "Заблокировали карту {card}, не понимаю почему.",
                "Карта {card} не проходит ни в одном магазине, в приложении пишет, что она заблокирована.",
                "Три раза {ввёл|ввела} неправильный ПИН-код, карта заблокирована. Как разблокировать?",
                "Банкомат в {city_ru} забрал карту, и теперь в приложении она заблокирована.",
                "Я сейчас в {country_ru}, а вы заблокировали мне карту! Не могу ни за что заплатить.",
                "Почему заморожена карта? {Пытался|Пыталась} оплатить {amount} в {merchant}, отказ.",
                "Разблокируйте, пожалуйста, карту {card}. Её заблокировали после покупки в {merchant}.",
                "Карту заблокировали за «подозрительные операции», но все платежи мои.",
            ],
            "short": [
                "карта заблокирована", "карту заблокировали почему", "разблокируйте карту {card}",
            ],
            "detail": [
                "На эту карту приходит зарплата.", "{Звонил|Звонила} на горячую линию, {ждал|ждала} 40 минут.",
                "Другой карты у меня с собой нет.",
            ],
            "secondary": [
                "Вдобавок карта {card} заблокирована.",
                "И ещё мне заблокировали карту.",
            ],
            "urgent": [
                "Я в аэропорту, в {country_ru}, единственную карту {card} только что заблокировали. Вылет через два часа, не могу ни за что заплатить. Срочно разблокируйте!",
                "Застрял{|а} за границей с заблокированной картой, отель требует оплату сегодня вечером, наличных нет. Помогите срочно!",
            ],
        },
    },
    "login_problem": {
        "en": {
            "body": [
                "I can't log in to the app. It says 'invalid password' but I'm sure it is correct.",
                "The SMS code for login never arrives.",
                "After the update the app crashes on the login screen.",
                "My online banking account is locked after too many login attempts.",
                "I forgot my password and the reset link in the email doesn't work.",
                "Face ID stopped working for login, and now it asks for a code I don't have.",
                "I can't sign in on my new phone, it keeps saying 'device not recognized'.",
                "Login error 'Something went wrong, try again later' {since}.",
                "Internet banking won't let me in, the page just reloads after I enter my login.",
            ],
            "short": [
                "cant login", "no sms code for login", "app wont let me sign in",
                "password reset not working",
            ],
            "detail": [
                "I reinstalled the app, it didn't help.", "Phone: {device}.",
                "I tried on Wi-Fi and on mobile data.", "I need to pay my bills today.",
            ],
            "secondary": [
                "Also I can't log into the app since yesterday.",
                "Plus the login code doesn't come.",
            ],
        },
        "ru": {
            "body": [
                "Не могу войти в приложение, пишет «неверный пароль», хотя пароль правильный.",
                "Не приходит СМС-код для входа.",
                "После обновления приложение вылетает на экране входа.",
                "Учётную запись заблокировали после нескольких попыток входа.",
                "{Забыл|Забыла} пароль, а ссылка для сброса не открывается.",
                "Не получается зайти в интернет-банк с нового телефона, пишет «устройство не распознано».",
                "Со вчерашнего дня при входе ошибка «Что-то пошло не так».",
                "Не работает вход по отпечатку, а код из СМС не приходит.",
            ],
            "short": [
                "не могу войти", "не приходит смс для входа", "не заходит в приложение",
            ],
            "detail": [
                "{Переустановил|Переустановила} приложение, не помогло.", "Телефон {device}.",
                "{Пробовал|Пробовала} и через Wi-Fi, и через мобильный интернет.",
            ],
            "secondary": [
                "Плюс ко всему не могу войти в приложение.",
                "И код для входа не приходит.",
            ],
        },
    },
    "phone_change": {
        "en": {
            "body": [
                "I changed my phone number. Please update it to {phone}.",
                "How can I change the mobile number linked to my account? New number {phone}, old one {phone_old}.",
                "I lost my SIM card and got a new number, {phone}. I need the SMS codes to come to it.",
                "Please replace my contact number {phone_old} with {phone}.",
                "I tried to change my number in the app but it sends the confirmation code to the old number, which I no longer have.",
                "I have a new phone number and want to link it to my account.",
            ],
            "short": [
                "new phone number {phone}", "change my number pls", "update phone to {phone}",
            ],
            "detail": [
                "I can come to the branch if needed.", "My old SIM is no longer active.",
                "I moved abroad and use a local number now.",
            ],
            "secondary": [
                "Also please update my phone number to {phone}.",
                "And I have a new phone number now: {phone}.",
            ],
        },
        "ru": {
            "body": [
                "{Сменил|Сменила} номер телефона, прошу обновить на {phone}.",
                "Как поменять номер телефона, привязанный к счёту? Новый {phone}, старый {phone_old}.",
                "{Потерял|Потеряла} сим-карту, теперь новый номер {phone}. Нужно, чтобы коды приходили на него.",
                "Замените, пожалуйста, контактный номер {phone_old} на {phone}.",
                "Пытаюсь сменить номер в приложении, а код подтверждения приходит на старый номер, которого у меня уже нет.",
                "У меня новый номер телефона, хочу привязать его к своему счёту.",
            ],
            "short": [
                "сменить номер {phone}", "новый номер телефона", "поменяйте номер на {phone}",
            ],
            "detail": [
                "Могу подойти в отделение, если нужно.", "Старая сим-карта уже не работает.",
            ],
            "secondary": [
                "И поменяйте, пожалуйста, номер телефона на {phone}.",
                "Заодно у меня новый номер: {phone}.",
            ],
        },
    },
    "fraud": {
        "en": {
            "body": [
                "There is a payment of {amount} at {merchant} that I did not make. My card {card} is with me.",
                "Someone called me pretending to be from the bank and I gave them the code. Now {amount} is gone.",
                "Unknown transactions on my account {date}: {amount} and {amount2} at {merchant}. I didn't authorize them.",
                "I received an SMS about a purchase of {amount} in {country} but I'm at home. This is fraud!",
                "I think my card {card} was skimmed, there are charges from {merchant} I don't recognize.",
                "Someone transferred {amount} from my account to {iban} without my knowledge.",
                "I clicked a link in a message that looked like it was from your bank and entered my card details. Now I see a charge of {amount}.",
                "A loan was taken out in my name that I never applied for. Contract {loan}.",
            ],
            "short": [
                "not my transaction {amount}!!", "someone stole money from my card",
                "fraud on my account", "i didnt make this payment {merchant}",
            ],
            "detail": [
                "I still have the card with me.", "I've already changed my password.",
                "I have never shopped at {merchant}.", "Please block the card and return the money.",
            ],
            "secondary": [
                "Also there is a charge of {amount} at {merchant} I don't recognize.",
            ],
            "urgent": [
                "URGENT: someone is making purchases with my card {card} right now! Already {amount} at {merchant} and more coming. Block it immediately!",
                "I'm getting SMS codes I didn't request and money is leaving my account as we speak, {amount} just went to {iban}. Please freeze everything now!",
                "A man on the phone says he is from your security department and is asking me to move my savings to a 'safe account' {iban}. He is still on the other line. Is this real??",
                "Help! My phone was stolen an hour ago and someone is logged into my banking app transferring money. {amount} is gone already.",
            ],
        },
        "ru": {
            "body": [
                "Списание {amount} в {merchant}, которое я не {совершал|совершала}. Карта у меня на руках.",
                "Позвонили якобы из банка, я {продиктовал|продиктовала} код из СМС, и с карты ушло {amount}.",
                "{date} по счёту прошли неизвестные операции: {amount} и {amount2}. Я их не {подтверждал|подтверждала}.",
                "Пришло СМС о покупке на {amount} за границей, а я дома. Это мошенники!",
                "Кто-то перевёл {amount} с моего счёта на {iban} без моего ведома.",
                "{Перешёл|Перешла} по ссылке из сообщения «от банка» и {ввёл|ввела} данные карты, теперь вижу списание {amount}.",
                "На меня оформили кредит, который я не {брал|брала}. Договор {loan}.",
            ],
            "short": [
                "не моя операция {amount}!!", "украли деньги с карты", "мошенники списали деньги",
            ],
            "detail": [
                "Карта при мне.", "Пароль я уже {поменял|поменяла}.",
                "В {merchant} я никогда ничего не {покупал|покупала}.",
                "Заблокируйте карту и верните деньги.",
            ],
            "secondary": [
                "Ещё вижу списание {amount} в {merchant}, которого я не {делал|делала}.",
            ],
            "urgent": [
                "СРОЧНО! Прямо сейчас с моей карты {card} идут списания, уже {amount} в {merchant}. Заблокируйте карту немедленно!",
                "Мне приходят коды, которые я не {запрашивал|запрашивала}, и деньги уходят со счёта прямо сейчас: только что {amount} на {iban}. Заморозьте всё!",
                "Мне звонит «служба безопасности банка» и требует перевести сбережения на «безопасный счёт» {iban}. Он ещё на линии. Это правда вы??",
                "Помогите! Час назад украли телефон, кто-то зашёл в моё приложение и переводит деньги. Уже ушло {amount}.",
            ],
        },
    },
    "other": {
        "en": {
            "body": [
                "How can I get a bank statement for the last 6 months in English?",
                "What are your branch opening hours in {city} on Saturday?",
                "I'd like to increase my credit card limit.",
                "Can you send me a certificate of my account balance for a visa application?",
                "What is the current interest rate on savings deposits?",
                "I moved, please update my home address.",
                "When will my new card be delivered? I ordered it {date}.",
                "The consultant in your {city} branch was very rude to me.",
                "How do I close my current account?",
                "Do you offer business accounts for sole proprietors?",
                "I want to order a metal card, how much does it cost?",
            ],
            "short": [
                "statement pls", "branch hours {city}?", "how to open a deposit", "what is the exchange rate today",
            ],
            "detail": [
                "No rush.", "My e-mail is {email}.", "Thanks for the great service so far.",
            ],
            "secondary": [
                "And could you send me a statement for last month?",
                "Also, what are your opening hours on Sunday?",
            ],
        },
        "ru": {
            "body": [
                "Как получить выписку по счёту за последние полгода на английском?",
                "До скольки работает отделение в {city_ru} в субботу?",
                "Хочу увеличить кредитный лимит по карте.",
                "Нужна справка об остатке на счёте для визы.",
                "Какая сейчас ставка по депозитам?",
                "Я {переехал|переехала}, обновите, пожалуйста, адрес.",
                "Когда доставят новую карту? {Заказывал|Заказывала} {date}.",
                "Как закрыть текущий счёт?",
                "Есть ли у вас счета для ИП?",
            ],
            "short": [
                "выписка нужна", "график работы отделения?", "какой курс доллара",
            ],
            "detail": [
                "Не срочно.", "Почта: {email}.", "Спасибо за обслуживание.",
            ],
            "secondary": [
                "И пришлите выписку за прошлый месяц.",
                "А ещё подскажите график работы в воскресенье.",
            ],
        },
    },
}

GREETINGS = {
    "en": {"email": ["Hello,", "Good afternoon,", "Dear support team,", "Hi,", "To whom it may concern,",
                     "Dear Sir or Madam,", "Good morning,"],
           "chat": ["hi", "hello", "hey", "Hi!", "good evening"],
           "app": ["Hello.", "Hi.", "Dear bank,"]},
    "ru": {"email": ["Здравствуйте!", "Добрый день.", "Уважаемая служба поддержки,", "Доброе утро.",
                     "Добрый вечер!"],
           "chat": ["здравствуйте", "добрый день", "привет", "Здравствуйте!", "алло"],
           "app": ["Здравствуйте.", "Добрый день!"]},
}
PHONE_OPENERS = {
    "en": ["Call transcript: ", "[phone] Customer: ", "Caller: ", "Transcript. Customer: Uh, hi. ",
           "Customer (call): Yes, hello, so ", "Call note, customer words: "],
    "ru": ["Расшифровка звонка: ", "[звонок] Клиент: ", "Звонок. Клиент: Алло, здравствуйте. Э-э, ",
           "Клиент (по телефону): Да, добрый день, в общем, ", "Запись разговора. Клиент: "],
}
PHONE_FILLERS = {"en": ["um, ", "so basically ", "like, ", "you know, "],
                 "ru": ["короче, ", "ну, ", "в общем, ", "как бы "]}
CONTEXT = {
    "en": ["I have been a customer of your bank for {years} years.",
           "I'm writing here because nobody answers the hotline.",
           "This is my second message about this.",
           "I'm travelling next week and need this sorted before then.",
           "My account number is {iban}, in case you need it."],
    "ru": ["Я клиент вашего банка уже {years} лет.",
           "Пишу сюда, потому что до горячей линии не дозвониться.",
           "Пишу уже второй раз.",
           "На следующей неделе уезжаю, нужно решить до этого.",
           "Мой счёт {iban}, если нужно."],
}
CLOSINGS = {
    "en": {"polite": ["Thank you in advance.", "Kind regards,\n{name}", "Thanks for your help!",
                      "Best regards, {first}", "Could you please look into it? Thank you.",
                      "I appreciate your help."],
           "angry": ["This is unacceptable!", "Fix it immediately or I'm closing my account.",
                     "I expect this to be resolved TODAY.", "Worst service ever.",
                     "I've been waiting for days. Is anyone even reading this?",
                     "If this isn't fixed I'm going to the regulator."],
           "neutral": ["Thanks.", "Please advise.", "Please check.", "{first}", ""]},
    "ru": {"polite": ["Заранее спасибо!", "С уважением,\n{name}", "Спасибо!",
                      "Буду благодарен за помощь.", "Подскажите, пожалуйста, что делать. Спасибо."],
           "angry": ["Это безобразие!", "Если не решите сегодня, закрою счёт.", "Сколько можно ждать?!",
                     "Худший банк!", "Третий раз пишу, никто не отвечает!!!",
                     "Буду жаловаться в Нацбанк."],
           "neutral": ["Жду ответа.", "Проверьте, пожалуйста.", "{first}", ""]},
}
CHAT_TAILS = {"en": ["pls help", "asap", "??", "!!", "help"],
              "ru": ["помогите плиз", "срочно", "??", "!!", "ответьте"]}

GENDER_FORM = re.compile(r"\{([^{}|]*)\|([^{}|]*)\}")
SLOT = re.compile(r"\{([a-z_0-9]+)\}")


class Ticket:
    """One ticket being written: its language, customer and slot values (fixed per ticket, so a
    card or amount mentioned twice stays the same)."""

    def __init__(self, rng, lang, customer):
        self.rng = rng
        self.lang = lang
        self.name, self.first, self.gender, self.email = customer
        self.slots = {}

    def slot(self, key):
        if key in self.slots:
            return self.slots[key]
        rng, lang = self.rng, self.lang
        makers = {
            "amount": lambda: make_amount(rng, lang),
            "amount2": lambda: make_amount(rng, lang),
            "merchant": lambda: rng.choice(MERCHANTS),
            "shop": lambda: rng.choice(SHOPS),
            "subscription": lambda: rng.choice(SUBSCRIPTIONS),
            "big_amount": lambda: make_big_amount(rng, lang),
            "card": lambda: make_card(rng, lang),
            "date": lambda: make_date(rng, lang),
            "since": lambda: make_since(rng),
            "iban": lambda: make_account(rng, lang),
            "phone": lambda: make_phone(rng),
            "phone_old": lambda: make_phone(rng),
            "loan": lambda: make_loan(rng, lang),
            "ref": lambda: make_ref(rng),
            "order": lambda: _digits(rng, rng.choice([6, 8, 9])),
            "days": lambda: str(rng.randint(2, 4)),
            "years": lambda: str(rng.randint(5, 20)),
            "city": lambda: rng.choice(CITIES_EN),
            "city_ru": lambda: rng.choice(CITIES_RU_PREP),
            "country": lambda: rng.choice(COUNTRIES_EN),
            "country_ru": lambda: rng.choice(COUNTRIES_RU_PREP),
            "device": lambda: rng.choice(DEVICES),
            "relative": lambda: rng.choice(RELATIVES_EN),
            "email": lambda: self.email,
            "name": lambda: self.name,
            "first": lambda: self.first,
        }
        self.slots[key] = makers[key]()
        return self.slots[key]

    def fill(self, template):
        text = GENDER_FORM.sub(lambda m: m.group(1 + self.gender), template)
        text = SLOT.sub(lambda m: self.slot(m.group(1)), text)
        text = re.sub(r"(руб|р)\.\.", r"\1.", text)  # "142 380 р." at a sentence end
        # A template may start with a slot such as {date}: capitalise the sentence.
        return text[:1].upper() + text[1:] if text else text


def add_typos(rng, text, rate):
    """Misspells about `rate` of the longer words (swap, drop or double a letter). Numbers,
    account numbers and other non-alphabetic tokens stay intact."""
    if rate <= 0:
        return text

    def mangle(m):
        word = m.group(0)
        if len(word) < 4 or not word.isalpha() or rng.random() >= rate:
            return word
        i = rng.randrange(1, len(word) - 1)
        kind = rng.randrange(3)
        if kind == 0:
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if kind == 1:
            return word[:i] + word[i + 1:]
        return word[:i] + word[i] + word[i:]

    return re.sub(r"\w+", mangle, text)


def choose_tone(rng, category, urgent):
    if urgent:
        return "angry" if rng.random() < 0.4 else "neutral"
    angry_rate = {"double_charge": 0.35, "missing_transfer": 0.3, "card_blocked": 0.35,
                  "fraud": 0.3, "login_problem": 0.25}.get(category, 0.1)
    r = rng.random()
    if r < angry_rate:
        return "angry"
    return "polite" if r < angry_rate + 0.45 else "neutral"


def write_text(rng, ticket, category, channel, urgent, second):
    """Composes one ticket's text from greeting, body, details, a second topic and a closing,
    in the style of its channel."""
    lang = ticket.lang
    t = T[category][lang]
    tone = choose_tone(rng, category, urgent)
    parts = []

    if urgent:
        body = ticket.fill(rng.choice(t["urgent"]))
    elif channel == "chat" and rng.random() < 0.35:
        body = ticket.fill(rng.choice(t["short"]))
    else:
        body = ticket.fill(rng.choice(t["body"]))

    if channel == "email":
        if rng.random() < 0.85:
            parts.append(rng.choice(GREETINGS[lang]["email"]))
        if rng.random() < 0.3:
            parts.append(ticket.fill(rng.choice(CONTEXT[lang])))
        parts.append(body)
        for detail in rng.sample(t["detail"], rng.randint(0, 2)):
            parts.append(ticket.fill(detail))
    elif channel == "chat":
        if rng.random() < 0.4:
            greeting = rng.choice(GREETINGS[lang]["chat"]).rstrip("!")
            joiner = rng.choice([", ", "! ", "\n"])
            if joiner == ", " and not re.match(r"I\b", body):
                body = body[:1].lower() + body[1:]
            body = greeting + joiner + body
        parts.append(body)
        if rng.random() < 0.3:
            parts.append(ticket.fill(rng.choice(t["detail"])))
    elif channel == "app":
        if rng.random() < 0.3:
            parts.append(rng.choice(GREETINGS[lang]["app"]))
        parts.append(body)
        if rng.random() < 0.5:
            parts.append(ticket.fill(rng.choice(t["detail"])))
    else:  # phone: a call transcript in the customer's words
        opener = rng.choice(PHONE_OPENERS[lang])
        filler = rng.choice(PHONE_FILLERS[lang]) if rng.random() < 0.5 else ""
        continues = filler or opener.rstrip()[-1] not in ":."
        first = body
        if continues and not re.match(r"I\b", body):
            first = body[:1].lower() + body[1:]
        parts.append(opener + filler + first)
        if rng.random() < 0.5:
            parts.append(ticket.fill(rng.choice(t["detail"])))

    if second:
        # Its own slot values: the second topic is about another card, amount or date.
        other = Ticket(rng, lang, (ticket.name, ticket.first, ticket.gender, ticket.email))
        parts.append(other.fill(rng.choice(T[second][lang]["secondary"])))

    if channel == "chat" and rng.random() < 0.35:
        parts.append(rng.choice(CHAT_TAILS[lang]))
    if channel in ("email", "app") or (tone == "angry" and rng.random() < 0.6):
        closing = ticket.fill(rng.choice(CLOSINGS[lang][tone]))
        if closing:
            parts.append(closing)

    sep = "\n\n" if channel == "email" and rng.random() < 0.6 else " "
    text = sep.join(parts)

    if tone == "angry" and rng.random() < 0.15:
        text = text.replace(body, body.upper(), 1)
    if tone == "angry" and rng.random() < 0.3:
        # The first sentence end becomes "!" (a dot after a letter: not decimals or domains).
        text, n = re.subn(r"(?<=[^\W\d_])\.(?= )", "!", text, count=1)
        if n == 0:
            text += "!!!"
    if channel == "chat" and rng.random() < 0.5:
        text = text.lower()
        if lang == "ru":
            text = text.replace("ё", "е")
        text = text.rstrip(".")
    text = add_typos(rng, text, TYPO_RATE[channel])
    return text


def generate(seed=SEED):
    """Returns the list of ticket dicts, in id order."""
    rng = random.Random(seed)
    categories = [c for c, n in CATEGORY_COUNTS.items() for _ in range(n)]
    rng.shuffle(categories)

    # Urgent flags: the first URGENT_COUNTS[c] tickets of category c, in a shuffled order.
    order = list(range(COUNT))
    rng.shuffle(order)
    urgent = [False] * COUNT
    left = dict(URGENT_COUNTS)
    for i in order:
        if left.get(categories[i], 0) > 0:
            urgent[i] = True
            left[categories[i]] -= 1

    n_ru = round(COUNT * RUSSIAN_SHARE)
    langs = ["ru"] * n_ru + ["en"] * (COUNT - n_ru)
    rng.shuffle(langs)

    # Customer pools: some customers write more than once, as in real support queues.
    pools = {"en": [make_customer(rng, "en") for _ in range(230)],
             "ru": [make_customer(rng, "ru") for _ in range(130)]}
    channel_names = [c for c, _ in CHANNELS]
    channel_weights = [w for _, w in CHANNELS]

    tickets = []
    for i in range(COUNT):
        lang, category = langs[i], categories[i]
        channel = rng.choices(channel_names, weights=channel_weights)[0]
        customer = rng.choice(pools[lang])
        second = None
        if not urgent[i] and rng.random() < TWO_TOPIC_RATE:
            second = rng.choice([c for c in CATEGORY_COUNTS if c != category])
        ticket = Ticket(rng, lang, customer)
        text = write_text(rng, ticket, category, channel, urgent[i], second)
        tickets.append({
            "id": "T-%d" % (FIRST_ID + i),
            "channel": channel,
            "customer": customer[0],
            "text": text,
            "expected_category": category,
            "urgent": urgent[i],
        })
    return tickets


def render(tickets):
    return "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tickets)


def main(argv=None):
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(here / "tickets.jsonl"), help="output JSONL file")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 unless --out equals a fresh generation byte for byte")
    args = ap.parse_args(argv)

    data = render(generate(args.seed)).encode("utf-8")
    out = Path(args.out)
    if args.check:
        if not out.exists() or out.read_bytes() != data:
            print("%s differs from a fresh generation with seed %d" % (out, args.seed), file=sys.stderr)
            return 1
        print("%s is up to date (%d bytes)" % (out, len(data)))
        return 0
    out.write_bytes(data)
    print("wrote %d tickets to %s" % (COUNT, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
