"""The auditor's tools on the real binary: --sandbox-selftest, --list-roles --verbose and
--print-policy ROLE --config FILE (the filter a configuration really uses)."""

import os
import re
import subprocess
import sys
import unittest

import harness
from harness import Daemon, TlsDaemon


def _run(*args):
    return subprocess.run([harness.BINARY] + list(args), capture_output=True, text=True, timeout=60)


class AuditToolsTest(unittest.TestCase):
    def test_no_merge_conflict_markers_in_the_tree(self):
        # A merge once left its markers in SECURITY.md: the docs are part of the audit.
        found = []
        for top, dirs, files in os.walk(harness._REPO):
            dirs[:] = [d for d in dirs if not d.startswith((".", "build"))]
            for name in files:
                path = os.path.join(top, name)
                try:
                    with open(path, "rb") as f:
                        lines = f.read().split(b"\n")
                except OSError:
                    continue
                for number, line in enumerate(lines, 1):
                    if line.startswith((b"<<<<<<< ", b">>>>>>> ")):
                        found.append("%s:%d" % (os.path.relpath(path, harness._REPO), number))
        self.assertEqual(found, [])

    def test_sandbox_selftest_passes_for_every_role(self):
        result = _run("--sandbox-selftest")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        roles = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")]
        self.assertEqual(sorted(roles), ["anonymous", "anonymous-upload", "listener", "monitor",
                                         "postauth", "preauth", "preauth-tls"])
        for line in result.stdout.splitlines():
            if line.startswith("  "):
                self.assertEqual(line.split()[1], "ok", line)

    def test_list_roles_verbose_gives_filter_sizes(self):
        result = _run("--list-roles", "--verbose")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = [line.split() for line in result.stdout.splitlines()]
        table = {fields[0]: [int(x) for x in fields[1:]] for fields in lines
                 if fields[2] != "denylist"}
        self.assertIn("preauth", table)
        # The listener's floor: a deny list (trapped, errno counts).
        floors = {fields[0]: [int(fields[1]), int(fields[3]), int(fields[4])] for fields in lines
                  if fields[2] == "denylist"}
        self.assertEqual(list(floors), ["listener"])
        self.assertGreater(floors["listener"][1], 40)
        # preauth-tls is preauth plus exactly one syscall (fcntl with named commands).
        self.assertEqual(table["preauth-tls"][1], table["preauth"][1] + 1)
        self.assertLess(table["preauth"][1], table["postauth"][1])

    def test_print_policy_follows_the_configuration(self):
        with TlsDaemon(start=False) as d:
            tls = _run("--print-policy-source", "preauth", "--config", d.config_file)
            self.assertEqual(tls.returncode, 0, tls.stderr)
            self.assertIn('filter "preauth-tls"', tls.stdout)
            self.assertIn("fcntl:", tls.stdout)
        with Daemon(start=False) as d:
            plain = _run("--print-policy-source", "preauth", "--config", d.config_file)
            self.assertEqual(plain.returncode, 0, plain.stderr)
            self.assertIn('filter "preauth"', plain.stdout)
            self.assertNotIn("fcntl:", plain.stdout)
            pfc = _run("--print-policy", "preauth", "--config", d.config_file)
            # The compiled filter: forbidden syscalls trap (reported by name), and a foreign
            # architecture is killed.
            self.assertIn("action TRAP;", pfc.stdout)
            self.assertIn("action KILL_PROCESS;", pfc.stdout)

    def test_security_md_figures_match_the_binary(self):
        if harness.is_sanitizer_build():
            self.skipTest("SECURITY.md states the release build's figures; sanitizer builds add "
                          "the sanitizer runtime's syscalls to every filter")
        script = os.path.join(harness._REPO, "tools", "security-figures")
        result = subprocess.run([sys.executable, script, "--check",
                                 os.path.join(harness._REPO, "SECURITY.md")],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_man_pages_document_every_command_line_option(self):
        # Every option the programs' own usage text offers is described in their man page.
        pages = {harness.BINARY: "wardenftpd.8", harness.PASSWD: "wardenftpd-passwd.1",
                 harness.CTL: "wardenftpd-ctl.8"}
        for binary, page in pages.items():
            usage = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
            self.assertEqual(usage.returncode, 0, usage.stderr)
            options = set(re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", usage.stdout))
            self.assertGreater(len(options), 3, usage.stdout)
            with open(os.path.join(harness._REPO, "man", page)) as f:
                man = f.read().replace("\\-", "-")
            for option in sorted(options):
                self.assertRegex(man, r"(?<![\w-])%s(?![\w-])" % re.escape(option),
                                 "%s: %s is not documented" % (page, option))

    def test_readme_client_table_matches_the_tests(self):
        # README's client table is generated from the @harness.covers marks of the tests.
        script = os.path.join(harness._REPO, "tools", "client-matrix")
        result = subprocess.run([sys.executable, script, "--check"], capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_man_page_and_sample_config_document_every_key(self):
        script = os.path.join(harness._REPO, "tools", "gen-config-docs")
        result = subprocess.run([sys.executable, script, "--check"], capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        keys = [line.split("\t")[0] for line in _run("--describe-config").stdout.splitlines()]
        self.assertIn("tls_enable", keys)
        with open(os.path.join(harness._REPO, "man", "wardenftpd.conf.5")) as f:
            man = f.read()
        with open(os.path.join(harness._REPO, "wardenftpd.conf.sample")) as f:
            sample = f.read()
        for key in keys:
            self.assertIn("\\fB%s\\fR" % key.replace("-", "\\-"), man)
            self.assertIn("\n#%s=" % key, sample)
        # The sample's values are valid: uncommented, the file passes --check-config.
        with Daemon(start=False) as d:
            uncommented = "\n".join(line[1:] if line.startswith("#") and "=" in line else line
                                     for line in sample.splitlines()
                                     if not line.startswith("# "))
            path = os.path.join(d.tmp, "sample.conf")
            with open(path, "w") as f:
                f.write(uncommented + "\n")
            result = _run("--check-config", path)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_print_policy_shows_the_listener_floor(self):
        pfc = _run("--print-policy", "listener")
        self.assertEqual(pfc.returncode, 0, pfc.stderr)
        # Default allow; the denied calls trap or fail with ENOSYS (38); foreign ABIs are killed.
        self.assertIn("action ALLOW;", pfc.stdout)
        self.assertIn("action TRAP;", pfc.stdout)
        self.assertIn("action ERRNO(38);", pfc.stdout)
        self.assertIn("action KILL_PROCESS;", pfc.stdout)
        source = _run("--print-policy-source", "listener")
        self.assertEqual(source.returncode, 0, source.stderr)
        self.assertIn("@denylist", source.stdout)
        self.assertIn("bpf: trap", source.stdout)

    def test_unknown_role_is_an_error(self):
        result = _run("--print-policy", "nosuchrole")
        self.assertEqual(result.returncode, 1)
        self.assertIn("--list-roles", result.stderr)


if __name__ == "__main__":
    unittest.main()
