// The one binary's entry: `sluice <command> ...`.
#pragma once

namespace sluice {

int Main(int argc, char** argv);

}  // namespace sluice
