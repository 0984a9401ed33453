// smmhub: the command-line renderer. See `smmhub --help`.
#include "cli/cli.h"

int main(int argc, char** argv) {
  return smmhub::cli::run(argc, argv);
}
