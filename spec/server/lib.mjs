// lib.mjs - helpers of the server's tests: start serve.lua on a free loopback port,
// stop it, run the command-line scripts, make temporary folders.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const host = process.env.BITTTT_HOST || join(root, "bin", "bitttt-lua");
export const modelId = "default.gguf";

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

// Starts serve.lua with `args` (--port 0 unless given); resolves { url, port, proc, stop(), stderr() }
// once it says it is listening.
export function startServer(args = [], { env = {} } = {}) {
  const all = ["serve.lua", ...(args.includes("--port") ? [] : ["--port", "0"]), ...args];
  const proc = spawn(host, all, { cwd: root, env: { ...process.env, BITTTT_THREADS: "1", ...env } });
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("serve.lua did not start in 30 s:\n" + err)), 30000);
    proc.stderr.on("data", (d) => {
      err += d;
      const m = err.match(/listening on http:\/\/([\d.]+):(\d+)/);
      if (m && !proc.started) {
        proc.started = true;
        clearTimeout(timer);
        const url = `http://${m[1]}:${m[2]}`;
        resolve({
          url, port: Number(m[2]), proc,
          stderr: () => err,
          stop: () => new Promise((done) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return done();
            proc.once("exit", () => done());
            proc.kill("SIGTERM");
          }),
        });
      }
    });
    proc.on("exit", (code) => {
      if (!proc.started) { clearTimeout(timer); reject(new Error(`serve.lua exited (${code}):\n${err}`)); }
    });
  });
}

// Runs a script of the project (bitttt-lua NAME args...) with `input` on stdin; returns stdout.
export function runScript(name, args, input = "") {
  return execFileSync(host, [name, ...args], { cwd: root, input, encoding: "utf8",
    env: { ...process.env, BITTTT_THREADS: "1" }, stdio: ["pipe", "pipe", "pipe"] });
}

// The resident set size of a process in KiB (Linux /proc).
export function rssKiB(pid) {
  const status = execFileSync("cat", [`/proc/${pid}/status`], { encoding: "utf8" });
  return Number(status.match(/VmRSS:\s+(\d+)/)[1]);
}
