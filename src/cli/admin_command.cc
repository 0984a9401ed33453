#include "cli/admin_command.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>

#include <fmt/format.h>

#include "accounts/accounts.h"
#include "cli/cli.h"
#include "store/database.h"

namespace smmhub::cli {
namespace {

// Returns the exit status for a failed STATUS: the database's failures are
// kExitAdminFailed, everything else is the caller's input.
int exitFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kInternal:
    case StatusCode::kDataLoss:
    case StatusCode::kResourceExhausted:
      return kExitAdminFailed;
    default:
      return kExitUsage;
  }
}

// Returns the password from --password-file, without one trailing line
// break, or else from SMMHUB_PASSWORD. Errors: invalidArgument when neither
// is given or the file cannot be read.
Result<std::string> readPassword(const std::string& password_file) {
  if (password_file.empty()) {
    const char* from_environment = std::getenv("SMMHUB_PASSWORD");
    if (from_environment == nullptr || *from_environment == '\0') {
      return Status::invalidArgument(
          "missing password: pass --password-file FILE or set SMMHUB_PASSWORD");
    }
    return std::string(from_environment);
  }

  std::ifstream in(password_file, std::ios::binary);
  if (!in) {
    return Status::invalidArgument("--password-file " + password_file + ": cannot open the file");
  }
  std::string password{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (password.ends_with("\n")) {
    password.pop_back();
    if (password.ends_with("\r")) {
      password.pop_back();
    }
  }
  return password;
}

Result<std::unique_ptr<store::Database>> openDatabase(std::string& db_url) {
  if (db_url.empty()) {
    const char* from_environment = std::getenv("SMMHUB_DB");
    db_url = from_environment == nullptr ? "" : from_environment;
  }
  if (db_url.empty()) {
    return Status::invalidArgument("missing database URL: pass --db URL or set SMMHUB_DB");
  }
  return store::Database::open({.url = db_url, .pool_size = 1});
}

Status createTenant(AdminArgs& args) {
  SMMHUB_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db, openDatabase(args.db_url));
  accounts::Accounts accounts(*db, nullptr);
  SMMHUB_ASSIGN_OR_RETURN(accounts::Tenant tenant, accounts.createTenant(args.tenant, args.name));
  fmt::print("{}\n", tenant.id);
  return okStatus();
}

Status createUser(AdminArgs& args) {
  if (!args.tenant.empty() && args.role.empty()) {
    return Status::invalidArgument("--tenant needs --role owner, editor or viewer");
  }
  if (args.tenant.empty() && !args.role.empty()) {
    return Status::invalidArgument("--role needs --tenant; a user without one has role none");
  }
  SMMHUB_ASSIGN_OR_RETURN(std::string password, readPassword(args.password_file));
  SMMHUB_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db, openDatabase(args.db_url));

  accounts::Accounts accounts(*db, nullptr);
  SMMHUB_ASSIGN_OR_RETURN(accounts::User user,
                          accounts.createUser({.tenant = args.tenant,
                                               .email = args.email,
                                               .name = args.name,
                                               .password = password,
                                               .role = args.role,
                                               .platform_admin = args.platform_admin}));
  fmt::print("{}\n", user.id);
  return okStatus();
}

}  // namespace

CLI::App* addAdminCommand(CLI::App& app, AdminArgs& args) {
  args.command = app.add_subcommand("admin", "Make tenants and users");
  args.command->require_subcommand(1);

  args.create_tenant = args.command->add_subcommand("create-tenant", "Add a tenant; prints its id");
  args.create_tenant
      ->add_option("id", args.tenant, "Tenant id: 1 to 64 letters, digits, '-' or '_'")
      ->required();
  args.create_tenant->add_option("--name", args.name, "Display name of the tenant")->required();
  args.create_tenant->add_option("--db", args.db_url,
                                 "Database: sqlite:PATH or postgresql://... (default: $SMMHUB_DB)");

  args.create_user = args.command->add_subcommand(
      "create-user",
      "Add a user; prints its id. The password comes from --password-file or SMMHUB_PASSWORD");
  args.create_user->add_option("--email", args.email, "Email the user signs in with")->required();
  args.create_user->add_option("--name", args.name, "Display name of the user");
  args.create_user->add_option("--password-file", args.password_file,
                               "File whose content is the password (one trailing line break is "
                               "dropped); at least 12 characters");
  args.create_user->add_option("--tenant", args.tenant, "Tenant the user belongs to");
  args.create_user->add_option("--role", args.role, "Role in the tenant: owner, editor or viewer");
  args.create_user->add_flag("--platform-admin", args.platform_admin,
                             "Make a platform administrator, who may have no tenant");
  args.create_user->add_option("--db", args.db_url,
                               "Database: sqlite:PATH or postgresql://... (default: $SMMHUB_DB)");
  return args.command;
}

int runAdmin(AdminArgs& args) {
  bool tenant_command = args.create_tenant->parsed();
  Status status = tenant_command ? createTenant(args) : createUser(args);
  if (!status.ok()) {
    fmt::print(stderr, "smmhub admin {}: {}\n", tenant_command ? "create-tenant" : "create-user",
               status.message());
    return exitFor(status);
  }
  return kExitOk;
}

}  // namespace smmhub::cli
