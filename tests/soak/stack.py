"""stack.py - the soak test's private keyflow stack: start, kill, restart.

A Stack owns one temporary directory holding a PostgreSQL cluster (started
by tests/pg.sh, with a watchdog on this process), the TLS certificates of
tests/certs.sh, kmsd (registered with CommServe as KMS "kms1"), commserved,
one mediaagentd "ma1" and one clientd per client.  Each daemon runs in its
own session, logs (appending across restarts) to logs/NAME.log and is
ready when a line it wrote since its latest start says "ready".

kill(name) sends SIGKILL (for PostgreSQL: to the postmaster named in
postmaster.pid, then waits for its backends), start(name) brings the
daemon back on the same ports, state and database.  check() reports
daemons that died without being killed.  close() stops everything and
destroys the cluster.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

READY_TIMEOUT = 60
STOP_TIMEOUT = 10


def free_ports(n):
    """n distinct free loopback TCP ports (held open together)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def alive(pid):
    """Running and not a zombie (kill -0 is fooled by late reaping)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return st not in ("Z", "X")


def children(pid):
    """PIDs whose parent is pid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append(int(d))
    return out


class StackError(Exception):
    """A daemon could not be started."""


class Daemon:
    """One daemon: its program, arguments, log and current process."""

    def __init__(self, name, prog, args):
        self.name = name        # label: commserve, kmsd, ma1, client-c1
        self.prog = prog        # absolute path of the program
        self.args = args        # its arguments
        self.proc = None        # the running subprocess.Popen
        self.killed = False     # we killed it and have not restarted it


class Stack:
    def __init__(self, root, build, work, nclients, say, curve=True):
        self.root = root            # the source tree
        self.build = build          # the build directory
        self.work = work            # our temporary directory
        self.say = say              # logging function
        self.logs = os.path.join(work, "logs")
        self.pgdir = os.path.join(work, "pg")
        self.daemons = {}           # name -> Daemon
        self.clients = ["c%d" % (i + 1) for i in range(nclients)]
        self.conninfo = None
        # CURVE on every ZeroMQ link, as ./run does: each program has a key
        # pair under curve/NAME, and curve/trust holds the public keys
        # CommServe and the MediaAgent let in.
        self.curve = os.path.join(work, "curve") if curve else None
        cs, ev, ma, kms = free_ports(4)
        self.cs_ep = "tcp://127.0.0.1:%d" % cs
        self.ev_ep = "tcp://127.0.0.1:%d" % ev
        self.ma_ep = "tcp://127.0.0.1:%d" % ma
        self.kms_addr = "127.0.0.1:%d" % kms
        os.makedirs(self.logs, exist_ok=True)

    # ------------------------------------------------------------ helpers

    def bin(self, prog):
        sub = {"commserved": "commserve", "mediaagentd": "mediaagent",
               "clientd": "client", "kmsd": "kms", "keyflow": "cli"}[prog]
        return os.path.join(self.build, sub, prog)

    def keyflow(self, *args, timeout=10):
        """Run keyflow against our CommServe: (rc, stdout, stderr)."""
        cmd = [self.bin("keyflow"), "--commserve", self.cs_ep,
               "--timeout", str(timeout)] + self.curve_args("cli") + \
            list(args)
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True,
                               timeout=timeout * 4 + 90)
        except subprocess.TimeoutExpired:
            return 124, "", "keyflow did not exit in time"
        return p.returncode, p.stdout, p.stderr

    def keyflow_ok(self, *args):
        rc, out, err = self.keyflow(*args)
        if rc != 0:
            raise StackError("keyflow %s: %s%s" % (" ".join(args), out, err))
        return out

    def curve_keys(self, name):
        """A key pair for NAME, trusted by CommServe and the MediaAgent."""
        d = os.path.join(self.curve, name)
        if not os.path.exists(os.path.join(d, "curve.pub")):
            p = subprocess.run([self.bin("keyflow"), "keygen", d],
                               stdin=subprocess.DEVNULL,
                               capture_output=True, text=True)
            if p.returncode != 0:
                raise StackError("keyflow keygen %s: %s" % (d, p.stderr))
            shutil.copy(os.path.join(d, "curve.pub"),
                        os.path.join(self.curve, "trust", name + ".pub"))
        return d

    def curve_args(self, name, serves=False):
        """The CURVE flags of program NAME (none when CURVE is off)."""
        if self.curve is None:
            return []
        args = ["--curve-dir", self.curve_keys(name)]
        if serves:
            return args + ["--curve-trust", os.path.join(self.curve, "trust")]
        return args + ["--commserve-key",
                       os.path.join(self.curve, "commserve", "curve.pub")]

    def pg(self, *args):
        p = subprocess.run([os.path.join(self.root, "tests", "pg.sh")] +
                           list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise StackError("pg.sh %s: %s" % (" ".join(args), p.stderr))
        return p.stdout

    def pg_home(self):
        home = os.path.join(self.pgdir, "pghome")
        if os.path.exists(home):
            with open(home) as f:
                return f.read().strip()
        return self.pgdir

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.pg_home(), "data",
                                   "postmaster.pid")) as f:
                pid = int(f.readline())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None

    # ------------------------------------------------------------ daemons

    def add(self, name, prog, args):
        self.daemons[name] = Daemon(name, self.bin(prog), args)

    def log_path(self, name):
        return os.path.join(self.logs, name + ".log")

    def spawn(self, name):
        """Start a daemon and wait until it logs "ready" anew."""
        d = self.daemons[name]
        log = self.log_path(name)
        off = os.path.getsize(log) if os.path.exists(log) else 0
        with open(log, "ab") as f:
            f.write(b"==== soak: starting %s at %s\n" %
                    (name.encode(), time.strftime("%H:%M:%S").encode()))
            off = f.tell()
            d.proc = subprocess.Popen([d.prog] + d.args,
                                      stdin=subprocess.DEVNULL, stdout=f,
                                      stderr=subprocess.STDOUT,
                                      start_new_session=True)
        d.killed = False
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            with open(log, "rb") as f:
                f.seek(off)
                if re.search(rb"\bready\b", f.read()):
                    return
            if d.proc.poll() is not None:
                raise StackError("%s exited (status %s) before it was ready;"
                                 " see %s" % (name, d.proc.returncode, log))
            if time.monotonic() > deadline:
                raise StackError("%s not ready after %ds; see %s" %
                                 (name, READY_TIMEOUT, log))
            time.sleep(0.1)

    def kill(self, name):
        """SIGKILL a daemon (or the PostgreSQL postmaster); wait its end."""
        if name == "postgres":
            pid = self.postmaster_pid()
            if pid is None:
                raise StackError("no running postmaster to kill")
            kids = children(pid)
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while (alive(pid) or any(alive(k) for k in kids)) and \
                    time.monotonic() < deadline:
                time.sleep(0.1)
            return pid
        d = self.daemons[name]
        d.killed = True
        pid = d.proc.pid
        d.proc.kill()
        d.proc.wait()
        return pid

    def start(self, name):
        if name == "postgres":
            # A postmaster killed -9 leaves backends that take a moment to
            # notice; pg.sh start refuses while they hold shared memory.
            last = None
            for _ in range(20):
                try:
                    self.pg("start", self.pgdir)
                    return
                except StackError as e:
                    last = e
                    time.sleep(1)
            raise last
        self.spawn(name)

    def check(self):
        """Daemons that died without our kill: [(name, status)]."""
        dead = []
        for d in self.daemons.values():
            if d.proc is not None and not d.killed and \
                    d.proc.poll() is not None:
                dead.append((d.name, d.proc.returncode))
        if self.conninfo and self.postmaster_pid() is None:
            dead.append(("postgres", None))
        return dead

    # ---------------------------------------------------------------- up

    def up(self):
        w = self.work
        self.say("starting PostgreSQL in %s" % self.pgdir)
        self.conninfo = self.pg("start", self.pgdir, "--watch",
                                str(os.getpid())).strip().splitlines()[-1]
        certs = os.path.join(w, "certs")
        p = subprocess.run([os.path.join(self.root, "tests", "certs.sh"),
                            certs], capture_output=True, text=True)
        if p.returncode != 0:
            raise StackError("tests/certs.sh: " + p.stderr)
        for sub in ("kms", "cs"):
            os.makedirs(os.path.join(w, sub), mode=0o700, exist_ok=True)
        if self.curve is not None:
            os.makedirs(os.path.join(self.curve, "trust"), exist_ok=True)
            self.curve_keys("commserve")
        os.makedirs(os.path.join(w, "ma"), exist_ok=True)
        self.add("kmsd", "kmsd", [
            "--listen", self.kms_addr, "--ca", certs + "/ca.pem",
            "--cert", certs + "/server.pem", "--key", certs + "/server.key",
            "--store", w + "/kms", "--events", self.ev_ep, "-v"] +
            self.curve_args("kmsd"))
        self.add("commserve", "commserved", [
            "--listen", self.cs_ep, "--events", self.ev_ep,
            "--db", self.conninfo, "--state-dir", w + "/cs", "-v"] +
            self.curve_args("commserve", serves=True))
        self.add("ma1", "mediaagentd", [
            "--name", "ma1", "--commserve", self.cs_ep,
            "--listen", self.ma_ep, "--root", w + "/ma", "-v"] +
            self.curve_args("ma1", serves=True) +
            (["--commserve-key",
              os.path.join(self.curve, "commserve", "curve.pub")]
             if self.curve else []))
        self.spawn("kmsd")
        self.spawn("commserve")
        self.keyflow_ok("kms", "add", "kms1", "--kmip", self.kms_addr,
                        "--ca", certs + "/ca.pem",
                        "--cert", certs + "/commserve.pem",
                        "--key", certs + "/commserve.key")
        self.spawn("ma1")
        for c in self.clients:
            pw = os.path.join(w, c + ".password")
            fd = os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.write(fd, os.urandom(18).hex().encode() + b"\n")
            os.close(fd)
            self.keyflow_ok("client", "add", c, "--password-file", pw)
            self.add("client-" + c, "clientd", [
                "--name", c, "--password-file", pw,
                "--commserve", self.cs_ep, "-v"] +
                self.curve_args("client-" + c))
            self.spawn("client-" + c)
        self.keyflow_ok("pool", "create", "pool-kms", "--mediaagent", "ma1",
                        "--kms", "kms1")
        self.keyflow_ok("pool", "create", "pool-builtin", "--mediaagent",
                        "ma1")

    def close(self):
        """SIGTERM every daemon (clients first), then destroy PostgreSQL."""
        order = ["client-" + c for c in self.clients] + \
            ["ma1", "kmsd", "commserve"]
        procs = []
        for name in order:
            d = self.daemons.get(name)
            if d and d.proc and d.proc.poll() is None:
                d.proc.terminate()
                procs.append(d.proc)
        for p in procs:
            try:
                p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        try:
            self.pg("destroy", self.pgdir)
        except StackError as e:
            self.say(str(e))
        shutil.rmtree(self.pgdir, ignore_errors=True)
