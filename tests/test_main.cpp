// The single doctest entry point: every tests/test_*.cpp file is linked into one binary.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
