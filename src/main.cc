#include "cli/main_command.h"

int main(int argc, char** argv) { return sluice::Main(argc, argv); }
