// Network namespaces that stand in for other machines. Each one is linked to
// the root namespace by a veth pair with a /30 of 10.231.X.0/24 and has no
// other route, so a process inside reaches only the root side of its own
// link. The destructor deletes every namespace and veth it made, also when a
// test fails, and a new lab first deletes those that a crashed run left.
//
//   NetworkLab lab;
//   ASSERT_EQ(lab.create(3), "");
//   // redis-server in the root namespace listens on lab.hostAddress(0..2);
//   // a worker runs with lab.execPrefix(1) + {"smmhub-worker", ...}.
//   lab.cut(1);  // the link of namespace 1 goes down
//
// Names start with "smmhub" and carry this process's pid: namespaces
// "smmhub-netns-PID-N", root-side veths "smmhubPIDrN" and their peers
// "smmhubPIDnN" (at most 15 characters, the kernel's limit).
#pragma once

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "testing/temp_dir.h"
#include "worker_support.h"

namespace smmhub::testing {

class NetworkLab {
 public:
  // Runs `ip ARGS` and waits for it. Returns an empty string, or the
  // command and what it wrote on stderr.
  static std::string ip(const std::vector<std::string>& args) {
    TempDir logs;
    ChildProcess child(ipBinary(), args, {}, logs.file("ip.out"), logs.file("ip.err"));
    if (!child.started()) {
      return "cannot start " + ipBinary();
    }
    int status = child.wait(std::chrono::seconds(30));
    if (status == 0) {
      return "";
    }
    std::string command = "ip";
    for (const std::string& arg : args) {
      command += " " + arg;
    }
    return command + " exited with status " + std::to_string(status) + ": " + child.err();
  }

  // Returns the output of `ip ARGS`, or "" when it fails.
  static std::string ipOutput(const std::vector<std::string>& args) {
    TempDir logs;
    ChildProcess child(ipBinary(), args, {}, logs.file("ip.out"), logs.file("ip.err"));
    return child.started() && child.wait(std::chrono::seconds(30)) == 0 ? child.out() : "";
  }

  static std::string ipBinary() {
    for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
      if (::access(path, X_OK) == 0) {
        return path;
      }
    }
    return "/usr/sbin/ip";
  }

  // Returns why this process cannot make network namespaces, or "" when it
  // can: it needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and a working
  // `ip netns`.
  static std::string unavailableReason() {
    if (::geteuid() != 0) {
      return "the network namespace tests need root, because `ip netns add` needs "
             "CAP_SYS_ADMIN; this process runs as uid " +
             std::to_string(::geteuid());
    }
    if (::access(ipBinary().c_str(), X_OK) != 0) {
      return "the network namespace tests need the ip command (Debian package iproute2)";
    }
    std::string probe = "smmhub-netns-" + std::to_string(::getpid()) + "-probe";
    std::string error = ip({"netns", "add", probe});
    if (!error.empty()) {
      return "the network namespace tests need `ip netns add`, which failed: " + error;
    }
    error = ip({"netns", "del", probe});
    return error.empty() ? "" : "`ip netns del` failed: " + error;
  }

  NetworkLab() { removeStale(); }
  ~NetworkLab() {
    for (int i = 0; i < made_; ++i) {
      ip({"netns", "del", namespaceName(i)});
      // Deleting the namespace deletes the pair; this catches a veth whose
      // peer never reached the namespace.
      if (linkExists(rootVeth(i))) {
        ip({"link", "del", rootVeth(i)});
      }
    }
  }
  NetworkLab(const NetworkLab&) = delete;
  NetworkLab& operator=(const NetworkLab&) = delete;
  NetworkLab(NetworkLab&&) = delete;
  NetworkLab& operator=(NetworkLab&&) = delete;

  // Makes COUNT namespaces with their links. Returns "" or the first error.
  std::string create(int count) {
    third_octet_ = freeThirdOctet();
    if (third_octet_ < 0) {
      return "no free /24 in 10.231.0.0/16 on this machine";
    }
    for (int i = 0; i < count; ++i) {
      std::string error = ip({"netns", "add", namespaceName(i)});
      if (!error.empty()) {
        return error;
      }
      made_ = i + 1;
      for (const std::vector<std::string>& step : linkSteps(i)) {
        error = ip(step);
        if (!error.empty()) {
          return error;
        }
      }
    }
    return "";
  }

  int size() const { return made_; }
  std::string namespaceName(int i) const {
    return "smmhub-netns-" + std::to_string(::getpid()) + "-" + std::to_string(i);
  }
  std::string rootVeth(int i) const {
    return "smmhub" + std::to_string(::getpid()) + "r" + std::to_string(i);
  }
  std::string namespaceVeth(int i) const {
    return "smmhub" + std::to_string(::getpid()) + "n" + std::to_string(i);
  }

  // The root namespace's address on link I, which servers listen on.
  std::string hostAddress(int i) const { return address(4 * i + 1); }
  // Namespace I's own address.
  std::string guestAddress(int i) const { return address(4 * i + 2); }
  // The subnet of every link, for pg_hba.conf.
  std::string subnet() const { return address(0) + "/24"; }

  // The command that runs a program inside namespace I: append the
  // program's path and arguments.
  std::vector<std::string> execPrefix(int i) const { return {"netns", "exec", namespaceName(i)}; }

  // Takes link I down on the root side, as a pulled cable would: packets
  // are dropped and open connections hang. Returns "" or the error.
  std::string cut(int i) const { return ip({"link", "set", rootVeth(i), "down"}); }
  std::string restore(int i) const { return ip({"link", "set", rootVeth(i), "up"}); }

 private:
  std::string address(int host) const {
    return "10.231." + std::to_string(third_octet_) + "." + std::to_string(host);
  }

  std::vector<std::vector<std::string>> linkSteps(int i) const {
    std::string ns = namespaceName(i);
    return {
        {"link", "add", rootVeth(i), "type", "veth", "peer", "name", namespaceVeth(i), "netns", ns},
        {"addr", "add", hostAddress(i) + "/30", "dev", rootVeth(i)},
        {"link", "set", rootVeth(i), "up"},
        {"-n", ns, "addr", "add", guestAddress(i) + "/30", "dev", namespaceVeth(i)},
        {"-n", ns, "link", "set", namespaceVeth(i), "up"},
        {"-n", ns, "link", "set", "lo", "up"},
    };
  }

  static bool linkExists(const std::string& name) {
    return !ipOutput({"-o", "link", "show", "dev", name}).empty();
  }

  // Returns a third octet X such that no address or route of this machine
  // is in 10.231.X.0/24, starting from one that depends on the pid so that
  // two test processes running at once pick different ones, or -1.
  static int freeThirdOctet() {
    std::string used = ipOutput({"-4", "-o", "addr", "show"}) + ipOutput({"-4", "route", "show"});
    for (int step = 0; step < 256; ++step) {
      int candidate = static_cast<int>((::getpid() + step) % 256);
      if (used.find("10.231." + std::to_string(candidate) + ".") == std::string::npos) {
        return candidate;
      }
    }
    return -1;
  }

  // Deletes the namespaces and veths of lab processes that no longer run.
  static void removeStale() {
    std::istringstream namespaces(ipOutput({"netns", "list"}));
    for (std::string line; std::getline(namespaces, line);) {
      std::string name = line.substr(0, line.find(' '));
      if (name.starts_with("smmhub-netns-") && !ownerRuns(name.substr(13))) {
        ip({"netns", "del", name});
      }
    }
    std::istringstream links(ipOutput({"-o", "link", "show"}));
    for (std::string line; std::getline(links, line);) {
      // "12: smmhub123r0@if11: <...>"
      auto start = line.find(": ");
      auto end = line.find_first_of("@:", start + 2);
      if (start == std::string::npos || end == std::string::npos) {
        continue;
      }
      std::string name = line.substr(start + 2, end - start - 2);
      if (name.starts_with("smmhub") && !ownerRuns(name.substr(6))) {
        ip({"link", "del", name});
      }
    }
  }

  // Returns whether the pid that TEXT starts with is a running process.
  // Text without a leading pid counts as running, so it is left alone.
  static bool ownerRuns(const std::string& text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
      digits++;
    }
    if (digits == 0 || digits > 9) {
      return true;
    }
    return std::filesystem::exists("/proc/" + text.substr(0, digits));
  }

  int third_octet_ = -1;
  int made_ = 0;
};

}  // namespace smmhub::testing
