// A throwaway PKI for the TLS unit tests, made once per test process with the openssl command
// line in a private temp directory (EC P-256, so it takes milliseconds), removed at exit.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace wftpd::unit_test {

struct TestPki {
  std::string error;          // non-empty when the PKI could not be made
  std::string dir;
  std::string ca;             // self-signed CA certificate (what clients trust)
  std::string cert;           // CN=localhost, SAN localhost/127.0.0.1, signed by the CA
  std::string key;            // its key, mode 0600
  std::string other_key;      // an unrelated P-256 key, mode 0600
  std::string expired_cert;   // `key`'s certificate, valid only in January 2020
  std::string weak_cert;      // RSA-1024, self-signed (below security level 2)
  std::string weak_key;
  std::string rsa_cert;       // CN=localhost, RSA-2048, signed by the CA
  std::string rsa_key;
  std::string p384_cert;      // CN=localhost, EC P-384, signed by the CA
  std::string p384_key;

  ~TestPki() {
    if (!dir.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  }
};

// Runs `openssl args...`; the error holds its stderr.
inline std::string run_openssl(const std::string& dir, const std::vector<std::string>& args) {
  const std::string stderr_path = dir + "/openssl.stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> argv_storage = {"openssl"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, "openssl", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return "posix_spawnp(openssl) failed";
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return "waitpid(openssl) failed";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::ifstream in(stderr_path);
  std::ostringstream text;
  text << in.rdbuf();
  return "openssl " + args.front() + " failed: " + text.str();
}

inline std::string make_test_pki(TestPki& pki) {
  char pattern[] = "/tmp/wftpd-unit-pki-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) return "mkdtemp failed";
  pki.dir = pattern;
  const std::string& d = pki.dir;
  pki.ca = d + "/ca.pem";
  pki.cert = d + "/cert.pem";
  pki.key = d + "/key.pem";
  pki.other_key = d + "/other-key.pem";
  pki.expired_cert = d + "/expired.pem";
  pki.weak_cert = d + "/weak.pem";
  pki.weak_key = d + "/weak-key.pem";
  pki.rsa_cert = d + "/rsa-cert.pem";
  pki.rsa_key = d + "/rsa-key.pem";
  pki.p384_cert = d + "/p384-cert.pem";
  pki.p384_key = d + "/p384-key.pem";
  {
    std::ofstream ext(d + "/ext.cnf");
    ext << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    std::ofstream ca_config(d + "/ca.cnf");
    ca_config << "[ca]\ndefault_ca = test\n[test]\ndatabase = " << d << "/index.txt\n"
              << "new_certs_dir = " << d << "\nserial = " << d << "/serial\n"
              << "default_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n";
    std::ofstream(d + "/index.txt");
    std::ofstream(d + "/serial") << "01\n";
  }
  const std::vector<std::vector<std::string>> steps = {
      {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
       d + "/ca-key.pem", "-out", pki.ca, "-days", "2", "-subj", "/CN=wardenftpd unit CA"},
      {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", pki.key,
       "-out", d + "/server.csr", "-subj", "/CN=localhost"},
      {"x509", "-req", "-in", d + "/server.csr", "-CA", pki.ca, "-CAkey", d + "/ca-key.pem",
       "-set_serial", "2", "-out", pki.cert, "-days", "1", "-extfile", d + "/ext.cnf"},
      {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pki.other_key},
      {"ca", "-batch", "-config", d + "/ca.cnf", "-selfsign", "-keyfile", pki.key, "-in",
       d + "/server.csr", "-out", pki.expired_cert, "-startdate", "20200101000000Z", "-enddate",
       "20200102000000Z"},
      {"req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", pki.weak_key, "-out",
       pki.weak_cert, "-days", "1", "-subj", "/CN=weak"},
      {"req", "-newkey", "rsa:2048", "-nodes", "-keyout", pki.rsa_key, "-out", d + "/rsa.csr",
       "-subj", "/CN=localhost"},
      {"x509", "-req", "-in", d + "/rsa.csr", "-CA", pki.ca, "-CAkey", d + "/ca-key.pem",
       "-set_serial", "3", "-out", pki.rsa_cert, "-days", "1", "-extfile", d + "/ext.cnf"},
      {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout",
       pki.p384_key, "-out", d + "/p384.csr", "-subj", "/CN=localhost"},
      {"x509", "-req", "-in", d + "/p384.csr", "-CA", pki.ca, "-CAkey", d + "/ca-key.pem",
       "-set_serial", "4", "-out", pki.p384_cert, "-days", "1", "-extfile", d + "/ext.cnf"},
  };
  for (const auto& step : steps) {
    if (auto failed = run_openssl(d, step); !failed.empty()) return failed;
  }
  for (const auto* key : {&pki.key, &pki.other_key, &pki.weak_key, &pki.rsa_key, &pki.p384_key}) {
    if (::chmod(key->c_str(), 0600) != 0) return "chmod " + *key + " failed";
  }
  return {};
}

// The PKI shared by every test of the process (made on first use).
inline const TestPki& test_pki() {
  static TestPki pki;
  static const bool made = [] {
    pki.error = make_test_pki(pki);
    return true;
  }();
  (void)made;
  return pki;
}

// Writes `text` to a new file `name` in the PKI directory with `mode`; returns its path.
inline std::string write_test_file(const std::string& name, const std::string& text, mode_t mode) {
  const std::string path = test_pki().dir + "/" + name;
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  ::chmod(path.c_str(), mode);
  return path;
}

inline std::string read_test_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace wftpd::unit_test
