// Two loops on two threads serve one port (SO_REUSEPORT); a client connects until both
// have answered. Prints whether every request was answered and whether both loops served,
// then how many connections each loop took.
#include <iostream>

#include "reuse_port_servers.hpp"

int main() { return reuse_port_servers::main(std::cout); }
