// C++ frames for heaptrack_print's text (tests/data/heaptrack/NOTES.md):
// operator new, templates, std::string, a lambda, a namespace.
// Build: c++ -std=c++17 -g -O1 -o cxx_probe cxx_probe.cpp
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lab {
template <typename T> struct Registry {
	std::map<std::string, std::vector<T>> items;
	__attribute__((noinline)) void add(const std::string &key, std::size_t n)
	{
		items[key].resize(n); // kept: the registry is leaked
	}
};
} // namespace lab

int main()
{
	auto *reg = new lab::Registry<double>(); // never deleted
	for (int i = 0; i < 200; i++)
		reg->add("key-number-" + std::to_string(i), 1024);
	auto make = [](std::size_t n) { return std::make_unique<char[]>(n); };
	for (int i = 0; i < 100; i++)
		make(4096); // temporary
	std::printf("entries=%zu\n", reg->items.size());
	return 0;
}
