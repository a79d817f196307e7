// What PII masking (src/privacy) costs per KiB of text, on text with values to mask and on text
// without any (the common case: one RE2::Set pass), and what unmasking an answer costs.
// Google Benchmark; not run by ctest. The texts are made here, not taken from any test corpus.
//
//   sluice_pii_mask_bench [--benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
#include <benchmark/benchmark.h>

#include <string>

#include "privacy/pii_masker.h"

namespace {

using sluice::privacy::PiiMapping;
using sluice::privacy::PiiMasker;

// About `bytes` of support-ticket prose; every `every`-th sentence carries a value of each
// built-in kind (0: none).
std::string Text(std::size_t bytes, int every) {
  const char* plain[] = {
      "The customer says the payment went through twice and asks for the second one back. ",
      "Клиент сообщает, что перевод не дошёл до получателя уже третий день. ",
      "Клиент төлемнің екі рет алынғанын айтады және қайтаруды сұрайды. ",
  };
  const char* with_values[] = {
      "Reach her at anna.k@mail.example.kz or +7 701 234 56 78; card 4111 1111 1111 1111. ",
      "Счёт KZ86125KZT5004100100, ИИН 900101300126, телефон 8 (701) 234-56-78. ",
      "Order 4111 1111 1111 1112 and reference 1234567890123 are not cards. ",
  };
  std::string out;
  for (int i = 0; out.size() < bytes; ++i) {
    out += (every > 0 && i % every == 0) ? with_values[i % 3] : plain[i % 3];
  }
  return out;
}

void Mask(benchmark::State& state, int every) {
  const std::string text = Text(static_cast<std::size_t>(state.range(0)), every);
  const PiiMasker& masker = PiiMasker::Builtin();
  for (auto _ : state) {
    PiiMapping mapping;
    benchmark::DoNotOptimize(masker.mask(text, mapping));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void BM_MaskWithoutPii(benchmark::State& state) { Mask(state, 0); }
void BM_MaskEveryFourthSentence(benchmark::State& state) { Mask(state, 4); }
void BM_MaskEverySentence(benchmark::State& state) { Mask(state, 1); }

void BM_UnmaskAnswer(benchmark::State& state) {
  const std::string text = Text(static_cast<std::size_t>(state.range(0)), 4);
  PiiMapping mapping;
  const std::string masked = PiiMasker::Builtin().mask(text, mapping);
  for (auto _ : state) benchmark::DoNotOptimize(mapping.unmask(masked));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * masked.size()));
}

BENCHMARK(BM_MaskWithoutPii)->Arg(1 << 10)->Arg(64 << 10);
BENCHMARK(BM_MaskEveryFourthSentence)->Arg(1 << 10)->Arg(64 << 10);
BENCHMARK(BM_MaskEverySentence)->Arg(1 << 10)->Arg(64 << 10);
BENCHMARK(BM_UnmaskAnswer)->Arg(1 << 10)->Arg(64 << 10);

}  // namespace

BENCHMARK_MAIN();
