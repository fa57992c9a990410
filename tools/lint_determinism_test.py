#!/usr/bin/env python3
"""Self-test for tools/lint_determinism.py.

Fixtures live in tools/lint_fixtures/{bad,good}/{sim,node,scenarios}/, laid out like a repo
root, so both can be linted with --root. In the bad fixtures every line that must be flagged
carries an `expect: <rule>[, <rule>...]` marker in a comment. The linter blanks comments, so
the markers cannot affect what it finds. The test requires the set of (file, line, rule) found
to equal the set of markers exactly: nothing missing and nothing extra.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))

import lint_determinism as lint  # noqa: E402

LINT = TOOLS / "lint_determinism.py"
BAD = TOOLS / "lint_fixtures" / "bad"
GOOD = TOOLS / "lint_fixtures" / "good"
EXPECT = re.compile(r"expect:\s*(?P<rules>[\w-]+(?:\s*,\s*[\w-]+)*)")
SUMMARY = re.compile(r"^lint_determinism: (?P<files>\d+) files scanned, (?P<violations>\d+) violations$")
VIOLATION_LINE = re.compile(r"^[^:\s]+:\d+: banned .+: .+; use .+$")


def lint_root(root: Path) -> list[lint.Violation]:
    return lint.lint_sources(lint.load_sources(root))


def found(violations: list[lint.Violation]) -> set[tuple[str, int, str]]:
    return {(v.path, v.line, v.rule) for v in violations}


def expected(root: Path) -> set[tuple[str, int, str]]:
    marks = set()
    for path in lint.find_files(root):
        rel = path.relative_to(root).as_posix()
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            if m := EXPECT.search(text):
                marks |= {(rel, number, rule) for rule in re.split(r"\s*,\s*", m["rules"])}
    return marks


def line_containing(root: Path, rel: str, snippet: str) -> int:
    """The line number of the one line in a fixture that contains snippet."""
    lines = [n for n, text in enumerate((root / rel).read_text().splitlines(), start=1) if snippet in text]
    if len(lines) != 1:
        raise AssertionError(f"{rel}: expected exactly one line containing {snippet!r}, found {lines}")
    return lines[0]


def lint_snippet(text: str, rel: str = "sim/snippet.cpp") -> set[tuple[int, str]]:
    return {(v.line, v.rule) for v in lint.lint_sources([lint.Source(rel, text)])}


def run_cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(LINT), *map(str, args)],
                          capture_output=True, text=True, check=False)


def blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


class StripCodeTest(unittest.TestCase):
    def assertStrips(self, text: str, code: str) -> None:
        self.assertEqual(lint.strip_code(text)[0], code)

    def test_comments_are_blanked_and_lines_kept(self):
        text = "a; // rand()\n/* std::thread\n getenv */ b;\n"
        code, comments = lint.strip_code(text)
        self.assertEqual(code, "a; " + blank("// rand()\n/* std::thread\n getenv */") + " b;\n")
        self.assertEqual(comments, [(3, " rand()")])

    def test_string_and_char_contents_are_blanked_quotes_kept(self):
        self.assertStrips('f("rand() \\" getenv");', 'f("' + blank('rand() \\" getenv') + '");')
        self.assertStrips("c = '\"'; d = '\\'';", "c = ' '; d = '  ';")

    def test_raw_strings(self):
        self.assertStrips('R"(rand() "x")";', 'R"' + blank('(rand() "x")') + '";')
        self.assertStrips('u8R"d(a)" rand())d" x;', 'u8R"' + blank('d(a)" rand())d') + '" x;')
        self.assertStrips('R"(line1\nline2)" y;', 'R"' + blank("(line1\nline2)") + '" y;')

    def test_digit_separators_are_not_char_literals(self):
        self.assertStrips("n = 1'000'000; rand();", "n = 1'000'000; rand();")

    def test_line_comment_continued_by_backslash(self):
        self.assertStrips("// a \\\nrand();\nx;", blank("// a \\\nrand();") + "\nx;")

    def test_unterminated_literal_stops_at_end_of_line(self):
        self.assertStrips("#error don't\nrand();", "#error don' \nrand();")


class BadFixturesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.violations = lint_root(BAD)
        cls.found = found(cls.violations)
        cls.expected = expected(BAD)

    def assertFlagged(self, rel: str, snippet: str, rule: str) -> None:
        line = line_containing(BAD, rel, snippet)
        self.assertIn((rel, line, rule), self.found, f"{rel}:{line} ({snippet!r}) not flagged as {rule}")

    def test_findings_match_expect_markers_exactly(self):
        self.assertEqual(sorted(self.expected - self.found), [], "expected but not flagged")
        self.assertEqual(sorted(self.found - self.expected), [], "flagged but not expected")

    def test_every_rule_is_exercised(self):
        self.assertEqual({rule for _, _, rule in self.expected}, set(lint.RULE_NAMES) | {lint.ALLOW_RULE})

    def test_wall_clock(self):
        for snippet in ("system_clock::now", "steady_clock::now", "high_resolution_clock",
                        "std::time(nullptr)", "time(NULL)", "::time(0)", "time(&f)", "gettimeofday",
                        "clock_gettime", "h = clock()", "std::clock()"):
            self.assertFlagged("sim/wall_clock.cpp", snippet, "wall-clock")

    def test_thread(self):
        for snippet in ("#include <thread>", "#include <mutex>", "#include <future>",
                        "#include <condition_variable>", "std::mutex g_mu", "std::recursive_mutex",
                        "std::shared_mutex", "std::timed_mutex", "std::condition_variable g_cv",
                        "std::thread t", "std::jthread", "std::async", "pthread_create"):
            self.assertFlagged("sim/threads.cpp", snippet, "thread")

    def test_random(self):
        for snippet in ("#include <random>", "return rand()", "srand(42)", "std::srand(7)", "std::rand()",
                        "return random()", "drand48", "arc4random", "getrandom", "random_device",
                        "std::mt19937 a", "mt19937_64", "minstd_rand", "default_random_engine",
                        "ranlux48", "knuth_b", "std::shuffle", "std::sample", "generate_canonical"):
            self.assertFlagged("node/random.cpp", snippet, "random")
        for name in lint.DISTRIBUTIONS:
            self.assertFlagged("node/random.cpp", f"std::{name}<" if name != "bernoulli_distribution"
                               else "std::bernoulli_distribution d3", "random")

    def test_pointer_order(self):
        rel = "node/pointer_order.cpp"
        for snippet in ("std::map<Node*, int>", "std::set<const Node*>", "std::multimap<Node *",
                        "std::multiset<Node*>", "std::unordered_map<const Node*", "std::unordered_set<Node*>",
                        "std::pair<int, int>*", "std::unique_ptr<Node>", "std::hash<Node*>", "std::less<Node*>",
                        "std::hash<const Node*>", "reinterpret_cast<std::uintptr_t>", "reinterpret_cast<uintptr_t>",
                        "reinterpret_cast<intptr_t>", "(uintptr_t)p"):
            self.assertFlagged(rel, snippet, "pointer-order")
        # Template arguments split over two lines: reported where the template name is.
        self.assertIn((rel, line_containing(BAD, rel, "split_over_lines") - 1, "pointer-order"), self.found)

    def test_unordered_iteration(self):
        rel = "sim/unordered_iteration.cpp"
        for snippet in (": peers_) {}", "this->peers_", ": live_)", ": edges_)", ": table()",
                        "std::as_const(peers_)", "std::views::keys", "peers_.begin()", "std::begin(live_)",
                        "unsorted.push_back", ": ids)", "state.peers_.table()"):
            self.assertFlagged(rel, snippet, "unordered-iteration")
        # A member declared in sim/peers.h, iterated from node/.
        self.assertFlagged("node/uses_peers.cpp", "holder.peers->live_", "unordered-iteration")

    def test_unordered_lookups_in_bad_fixture_are_not_flagged(self):
        line = line_containing(BAD, "sim/peers.h", "peers_.count(id)")
        self.assertNotIn(("sim/peers.h", line, "unordered-iteration"), self.found)

    def test_getenv(self):
        for snippet in ("std::getenv", "getenv(\"HOME\")", "secure_getenv"):
            self.assertFlagged("scenarios/config.cpp", snippet, "getenv")

    def test_allow_syntax(self):
        rel = "scenarios/allow_syntax.cpp"
        self.assertFlagged(rel, "int a = 0;", lint.ALLOW_RULE)
        # An allow without a reason, or naming an unknown rule, is reported and suppresses nothing.
        self.assertFlagged(rel, "int b = rand();", lint.ALLOW_RULE)
        self.assertFlagged(rel, "int b = rand();", "random")
        self.assertFlagged(rel, "randomness", lint.ALLOW_RULE)
        self.assertFlagged(rel, "randomness", "random")
        # A valid allow suppresses only the rule it names.
        line = line_containing(BAD, rel, "int d = rand();")
        self.assertIn((rel, line, "getenv"), self.found)
        self.assertNotIn((rel, line, "random"), self.found)

    def test_message_format(self):
        line = line_containing(BAD, "scenarios/config.cpp", "secure_getenv")
        self.assertIn(
            f"scenarios/config.cpp:{line}: banned secure_getenv: the environment is a hidden input that "
            "differs between machines and runs; use pass configuration explicitly (Config / --set)",
            [v.format() for v in self.violations])
        uses = {v.rule: v.use for v in self.violations}
        self.assertEqual(uses["wall-clock"], "sim virtual time: Runtime::now() / Scheduler::now()")
        self.assertEqual(uses["thread"], "fibers and fiber-aware primitives: spawn(), sim::Mutex, sim::Semaphore, sim::Notify")
        self.assertEqual(uses["random"], "a named stream from the root seed: Rng::below/uniform01/exponential/bernoulli/shuffle/choose")
        self.assertEqual(uses["pointer-order"], "key by a stable id (HostId, FiberId, blob id), never by address")
        self.assertEqual(uses["unordered-iteration"], "iterate a std::map / sorted vector, or sort the keys first")


class GoodFixturesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.violations = lint_root(GOOD)

    def assertClean(self, rel: str, snippet: str) -> None:
        line = line_containing(GOOD, rel, snippet)  # also proves the fixture still has the case
        flagged = [v.format() for v in self.violations if (v.path, v.line) == (rel, line)]
        self.assertEqual(flagged, [], f"{rel}:{line} ({snippet!r}) must not be flagged")

    def test_no_violations_at_all(self):
        self.assertEqual([v.format() for v in self.violations], [])

    def test_comments_and_strings(self):
        rel = "sim/scheduler.cpp"
        for snippet in ("std::chrono::system_clock::now(), rand()", "std::mutex mu;", "std::map<Node*, int> m;",
                        "kHelp", "kRaw =", "kRawDelim", "kQuote", "kApostrophe", "1'000'000"):
            self.assertClean(rel, snippet)

    def test_members_named_like_c_functions(self):
        self.assertClean("sim/scheduler.h", "Instant time() const;")
        self.assertClean("sim/scheduler.h", "SimClock& clock();")
        self.assertClean("sim/scheduler.h", "Rng& random();")
        self.assertClean("sim/scheduler.h", "return time() - start_;")
        rel = "sim/scheduler.cpp"
        for snippet in ("Scheduler::time() const", "Scheduler::clock()", "x.time()", "p->time()",
                        "sched.clock();", "p->clock()", "sched.clock().now()", "x.clock()", "sched.random()",
                        "operand(1) + brand(2)"):
            self.assertClean(rel, snippet)

    def test_unordered_lookups_and_ordered_iteration(self):
        rel = "node/directory.cpp"
        for snippet in ("hosts_.count(id)", "hosts_.find(id)", "it == hosts_.end()", "hosts_.at(id)", "hosts_[id]",
                        ": ordered_)", "ids.push_back(id)", "live_.begin(), live_.end()", "copy(hosts_.begin()",
                        "for (int i = 0", "sorted_view(hosts_)"):
            self.assertClean(rel, snippet)

    def test_pointer_values_and_stable_keys(self):
        rel = "node/directory.cpp"
        for snippet in ("std::map<HostId, Host*>", "std::unordered_map<std::uint64_t, Host*>", "std::hash<HostId>",
                        "std::less<>", "std::vector<Host*>", "sizeof(uintptr_t)", "void(uintptr_t)"):
            self.assertClean(rel, snippet)

    def test_rng_and_fiber_primitives(self):
        rel = "scenarios/seeded.cpp"
        for snippet in ("Rng::shuffle(rng, v)", "rng.shuffle(v)", "Rng::choose", "rng.below(6)",
                        "sim::Mutex mutex_", "cfg.get(\"seed\")"):
            self.assertClean(rel, snippet)

    def test_allow_listed_lines(self):
        rel = "scenarios/seeded.cpp"
        for snippet in ("allow(wall-clock)", "allow(random)", "allow(getenv, random)"):
            self.assertClean(rel, snippet)


class SnippetTest(unittest.TestCase):
    """Cases easier to state inline than as fixture files."""

    def test_custom_comparator_or_hasher_is_not_pointer_order(self):
        self.assertEqual(lint_snippet("std::set<Node*, ById> a;\nstd::unordered_map<Node*, int, HashById> b;"), set())
        self.assertEqual(lint_snippet("std::set<Node*, std::less<Node*>> a;"), {(1, "pointer-order")})

    def test_type_alias_of_unordered_container(self):
        text = "using Table = std::unordered_map<int, int>;\nTable t_;\nvoid f() { for (auto& kv : t_) {} }\n"
        self.assertEqual(lint_snippet(text), {(3, "unordered-iteration")})

    def test_source_file_names_stay_local(self):
        decl = lint.Source("sim/a.cpp", "std::unordered_set<int> m;\n")
        use = lint.Source("sim/b.cpp", "std::vector<int> m;\nvoid f() { for (int x : m) {} }\n")
        self.assertEqual(lint.lint_sources([decl, use]), [])

    def test_header_members_are_shared(self):
        decl = lint.Source("sim/a.h", "struct A { std::unordered_set<int> m_; };\n")
        use = lint.Source("node/b.cpp", "void f(A& a) { for (int x : a.m_) {} }\n")
        self.assertEqual(found(lint.lint_sources([decl, use])), {("node/b.cpp", 1, "unordered-iteration")})


class CliTest(unittest.TestCase):
    def summary(self, stdout: str) -> re.Match:
        last = stdout.rstrip("\n").splitlines()[-1]
        m = SUMMARY.match(last)
        self.assertIsNotNone(m, f"bad summary line: {last!r}")
        return m

    def test_bad_fixtures_exit_1(self):
        result = run_cli("--root", BAD)
        self.assertEqual(result.returncode, 1, result.stderr)
        summary = self.summary(result.stdout)
        self.assertEqual(int(summary["files"]), len(lint.find_files(BAD)))
        self.assertEqual(int(summary["violations"]), len(lint_root(BAD)))
        for line in result.stdout.splitlines()[:-1]:
            self.assertRegex(line, VIOLATION_LINE)

    def test_good_fixtures_exit_0(self):
        result = run_cli("--root", GOOD)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        summary = self.summary(result.stdout)
        self.assertEqual(int(summary["files"]), len(lint.find_files(GOOD)))
        self.assertEqual(summary["violations"], "0")

    def test_explicit_path_printed_relative_to_root(self):
        result = run_cli("--root", BAD, BAD / "scenarios" / "config.cpp")
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stdout.startswith("scenarios/config.cpp:"), result.stdout)
        self.assertEqual(self.summary(result.stdout)["files"], "1")

    def test_missing_default_dirs_are_skipped(self):
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "node").mkdir()
            (Path(tmp) / "node" / "ok.cpp").write_text("int main() { return 0; }\n")
            (Path(tmp) / "node" / "notes.txt").write_text("rand()\n")
            result = run_cli("--root", tmp)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "lint_determinism: 1 files scanned, 0 violations\n")

    def test_missing_explicit_path_is_an_error(self):
        result = run_cli("--root", GOOD, GOOD / "no_such_dir")
        self.assertEqual(result.returncode, 2)
        self.assertIn("no such file or directory", result.stderr)


if __name__ == "__main__":
    unittest.main()
