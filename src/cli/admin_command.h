// `smmhub admin ...`: makes tenants and users from the command line, such as
// the first platform administrator of a new installation.
//
//   smmhub admin create-tenant acme --name "Acme Media" --db sqlite:smmhub.db
//   SMMHUB_PASSWORD=... smmhub admin create-user --email ana@acme.test \
//       --tenant acme --role owner --db sqlite:smmhub.db
//
// A password never goes on the command line, where other users of the
// machine could read it: it comes from --password-file or SMMHUB_PASSWORD.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace smmhub::cli {

// Exit status of `smmhub admin` when the database fails, besides kExitOk
// and kExitUsage (bad input, a taken id or email, an unknown tenant).
inline constexpr int kExitAdminFailed = 1;

struct AdminArgs {
  std::string db_url;
  std::string tenant;
  std::string name;
  std::string email;
  std::string password_file;
  std::string role;
  bool platform_admin = false;
  CLI::App* command = nullptr;
  CLI::App* create_tenant = nullptr;
  CLI::App* create_user = nullptr;
};

// Declares `admin` and its subcommands; ARGS must outlive parsing.
CLI::App* addAdminCommand(CLI::App& app, AdminArgs& args);

// Runs the parsed admin subcommand and returns the exit status.
int runAdmin(AdminArgs& args);

}  // namespace smmhub::cli
