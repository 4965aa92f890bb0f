#include "cli/cli.h"

int main(int argc, char** argv) { return avtrace::cli::Main(argc, argv); }
