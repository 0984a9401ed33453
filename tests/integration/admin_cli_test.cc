// `smmhub admin create-tenant` and `smmhub admin create-user` run as child
// processes against a SQLite database that the test then reads through
// Accounts.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "accounts/accounts.h"
#include "testing/free_port.h"
#include "testing/temp_dir.h"

extern char** environ;

namespace smmhub::cli {
namespace {

using smmhub::testing::TempDir;

constexpr std::string_view kPassword = "correct horse battery";

std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct CommandRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class AdminCliTest : public ::testing::Test {
 protected:
  std::string dbUrl() const { return "sqlite:" + dir_.file("smmhub.db").string(); }

  // Runs the smmhub binary with ARGS and the environment variables ENV
  // added; SMMHUB_PASSWORD and SMMHUB_DB of the test's own environment are
  // left out. Waits for it to exit.
  CommandRun run(std::vector<std::string> args,
                 const std::map<std::string, std::string>& env = {}) {
    static int runs = 0;
    std::filesystem::path out = dir_.file("out-" + std::to_string(runs) + ".txt");
    std::filesystem::path err = dir_.file("err-" + std::to_string(runs) + ".txt");
    runs++;

    args.insert(args.begin(), SMMHUB_BINARY);
    std::vector<char*> argv;
    for (std::string& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> variables;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      std::string variable = *entry;
      if (!variable.starts_with("SMMHUB_PASSWORD=") && !variable.starts_with("SMMHUB_DB=")) {
        variables.push_back(variable);
      }
    }
    for (const auto& [name, value] : env) {
      variables.push_back(name + "=" + value);
    }
    std::vector<char*> envp;
    for (std::string& variable : variables) {
      envp.push_back(variable.data());
    }
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = -1;
    int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(spawned, 0) << "cannot start " << SMMHUB_BINARY;
    if (spawned != 0) {
      return {};
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
            .out = readText(out),
            .err = readText(err)};
  }

  std::unique_ptr<store::Database> openDatabase() {
    Result<std::unique_ptr<store::Database>> db = store::Database::open({.url = dbUrl()});
    EXPECT_TRUE(db.ok()) << db.status().toString();
    return db.ok() ? std::move(*db) : nullptr;
  }

  TempDir dir_;
};

TEST_F(AdminCliTest, CreateTenantPrintsId) {
  CommandRun created =
      run({"admin", "create-tenant", "acme", "--name", "Acme Media", "--db", dbUrl()});

  std::unique_ptr<store::Database> db = openDatabase();
  accounts::Accounts accounts(*db, nullptr);
  Result<accounts::Tenant> tenant = accounts.tenant("acme");
  EXPECT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "acme\n");
  ASSERT_TRUE(tenant.ok()) << tenant.status().toString();
  EXPECT_EQ(tenant->name, "Acme Media");
}

TEST_F(AdminCliTest, CreateTenantErrors) {
  ASSERT_EQ(run({"admin", "create-tenant", "acme", "--name", "Acme", "--db", dbUrl()}).exit_code,
            0);

  CommandRun repeated = run({"admin", "create-tenant", "acme", "--name", "Again", "--db", dbUrl()});
  CommandRun bad_id = run({"admin", "create-tenant", "a b", "--name", "X", "--db", dbUrl()});
  CommandRun no_name = run({"admin", "create-tenant", "beta", "--db", dbUrl()});
  CommandRun no_db = run({"admin", "create-tenant", "beta", "--name", "Beta"});

  EXPECT_EQ(repeated.exit_code, 2);
  EXPECT_EQ(repeated.err, "smmhub admin create-tenant: tenant 'acme' already exists\n");
  EXPECT_EQ(bad_id.exit_code, 2);
  EXPECT_NE(bad_id.err.find("a b"), std::string::npos) << bad_id.err;
  EXPECT_EQ(no_name.exit_code, 2);
  EXPECT_NE(no_name.err.find("--name is required"), std::string::npos) << no_name.err;
  EXPECT_EQ(no_db.exit_code, 2);
  EXPECT_EQ(no_db.err,
            "smmhub admin create-tenant: missing database URL: pass --db URL or set SMMHUB_DB\n");
}

TEST_F(AdminCliTest, CreateUserFromPasswordFile) {
  ASSERT_EQ(run({"admin", "create-tenant", "acme", "--name", "Acme", "--db", dbUrl()}).exit_code,
            0);
  std::filesystem::path password_file = dir_.write("password.txt", std::string(kPassword) + "\n");

  CommandRun created =
      run({"admin", "create-user", "--email", "Ana@Acme.test", "--name", "Ana", "--password-file",
           password_file.string(), "--tenant", "acme", "--role", "owner", "--db", dbUrl()});

  std::unique_ptr<store::Database> db = openDatabase();
  accounts::Accounts accounts(*db, nullptr);
  Result<accounts::Session> session =
      accounts.signIn("ana@acme.test", std::string(kPassword), "127.0.0.1");
  EXPECT_EQ(created.exit_code, 0) << created.err;
  ASSERT_EQ(created.out.size(), 17u) << created.out;
  ASSERT_TRUE(session.ok()) << session.status().toString();
  EXPECT_EQ(created.out, session->user.id + "\n");
  EXPECT_EQ(session->user.role, "owner");
  EXPECT_EQ(session->user.tenant, "acme");
  EXPECT_EQ(session->user.name, "Ana");
}

TEST_F(AdminCliTest, CreatePlatformAdminFromEnvironment) {
  CommandRun created =
      run({"admin", "create-user", "--email", "root@smmhub.test", "--platform-admin"},
          {{"SMMHUB_PASSWORD", std::string(kPassword)}, {"SMMHUB_DB", dbUrl()}});

  std::unique_ptr<store::Database> db = openDatabase();
  accounts::Accounts accounts(*db, nullptr);
  Result<accounts::Session> session =
      accounts.signIn("root@smmhub.test", std::string(kPassword), "127.0.0.1");
  EXPECT_EQ(created.exit_code, 0) << created.err;
  ASSERT_TRUE(session.ok()) << session.status().toString();
  EXPECT_TRUE(session->user.platform_admin);
  EXPECT_EQ(session->user.role, "none");
  EXPECT_EQ(session->user.tenant, "");
}

TEST_F(AdminCliTest, CreateUserErrors) {
  ASSERT_EQ(run({"admin", "create-tenant", "acme", "--name", "Acme", "--db", dbUrl()}).exit_code,
            0);
  std::map<std::string, std::string> env = {{"SMMHUB_PASSWORD", std::string(kPassword)}};
  std::vector<std::string> owner = {"admin", "create-user", "--tenant", "acme",   "--role",
                                    "owner", "--db",        dbUrl(),    "--email"};
  auto with = [](std::vector<std::string> args, std::vector<std::string> more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  ASSERT_EQ(run(with(owner, {"ana@acme.test"}), env).exit_code, 0);

  CommandRun no_password = run(with(owner, {"b@acme.test"}));
  CommandRun short_password = run(with(owner, {"c@acme.test"}), {{"SMMHUB_PASSWORD", "short"}});
  CommandRun missing_file = run(with(owner, {"d@acme.test", "--password-file", "/nonexistent/pw"}));
  CommandRun duplicate = run(with(owner, {"ANA@acme.test"}), env);
  CommandRun no_role = run(
      {"admin", "create-user", "--tenant", "acme", "--email", "e@acme.test", "--db", dbUrl()}, env);
  CommandRun no_tenant =
      run({"admin", "create-user", "--email", "f@acme.test", "--db", dbUrl()}, env);
  CommandRun unknown_tenant = run({"admin", "create-user", "--tenant", "nobody", "--role", "viewer",
                                   "--email", "g@acme.test", "--db", dbUrl()},
                                  env);

  EXPECT_EQ(no_password.exit_code, 2);
  EXPECT_EQ(no_password.err,
            "smmhub admin create-user: missing password: pass --password-file FILE or set "
            "SMMHUB_PASSWORD\n");
  EXPECT_EQ(short_password.exit_code, 2);
  EXPECT_EQ(short_password.err,
            "smmhub admin create-user: password is shorter than 12 characters\n");
  EXPECT_EQ(missing_file.exit_code, 2);
  EXPECT_EQ(missing_file.err,
            "smmhub admin create-user: --password-file /nonexistent/pw: cannot open the file\n");
  EXPECT_EQ(duplicate.exit_code, 2);
  EXPECT_EQ(duplicate.err,
            "smmhub admin create-user: email ana@acme.test is already taken by another user\n");
  EXPECT_EQ(no_role.exit_code, 2);
  EXPECT_EQ(no_role.err,
            "smmhub admin create-user: --tenant needs --role owner, editor or viewer\n");
  EXPECT_EQ(no_tenant.exit_code, 2);
  EXPECT_NE(no_tenant.err.find("only a platform administrator may have none"), std::string::npos)
      << no_tenant.err;
  EXPECT_EQ(unknown_tenant.exit_code, 2);
  EXPECT_EQ(unknown_tenant.err, "smmhub admin create-user: tenant 'nobody' not found\n");
}

TEST_F(AdminCliTest, UnreachableDatabaseExitsOne) {
  std::string url =
      "postgresql://postgres@127.0.0.1:" + std::to_string(smmhub::testing::freeLoopbackPort()) +
      "/smmhub";

  CommandRun created = run({"admin", "create-tenant", "acme", "--name", "Acme", "--db", url});

  EXPECT_EQ(created.exit_code, 1) << created.err;
  EXPECT_EQ(created.err.rfind("smmhub admin create-tenant: ", 0), 0u) << created.err;
  EXPECT_EQ(created.out, "");
}

}  // namespace
}  // namespace smmhub::cli
