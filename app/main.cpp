#include "app/cli.hpp"

int main(int argc, char** argv) { return foodpipe::app::run(argc, argv); }
