#!/usr/bin/env node
/**
 * Patches and rebuilds the `zookeeper` package's Node binding (src/node-zk.cpp) at install.
 * Plain JavaScript on purpose: it runs as `postinstall`, before anything is compiled.
 *
 * Why. The binding watches the C client's socket with a uv_poll handle and re-reads the
 * descriptor only in yield(). When zookeeper_interest() fails, the C client has usually just
 * closed that socket (its receive timeout: a server paused, partitioned or slow for 2/3 of the
 * session timeout, or this process's event loop blocked as long), but the binding keeps both
 * the old number and the poll handle, and closes the handle at some later yield(). By then
 * Node may have given the number to one of its own sockets (an accepted connection, an HTTP
 * client...): closing the stale handle runs epoll_ctl(DEL) on it, that socket never hears from
 * epoll again, and the next change of its interest aborts the process in libuv
 * (uv__epoll_ctl_prep, EPOLL_CTL_MOD -> ENOENT). Seen in this project's CI as a SIGABRT after
 * the tests of test/integration/election-acl.test.ts had passed; test/integration/binding-fd.test.ts
 * reproduces it against a paused server.
 *
 * The patch (each edit below says why):
 *   1. yield(): on an error from zookeeper_interest(), close the poll handle at once (the number
 *      is still free then) and forget the descriptor.
 *   2. yield(): a uv_poll_init() that fails (the number is watched by another handle) no longer
 *      leaves an uninitialised handle to be started (libuv asserts or corrupts memory); the
 *      client retries at its next timer tick.
 *   3. After every API call: if the C client dropped its socket while sending
 *      (nonblocking_send() closes it on a send error), resynchronise at once instead of keeping a
 *      handle on a closed descriptor until the next timer tick.
 *   4. Host names are resolved when connecting and at most every 10 s while connected, instead
 *      of after every reply (a getaddrinfo and a /dev/urandom read per I/O event).
 *   5. The constructor carries ZK_ELECT_PATCH, so the client can tell a patched binding from an
 *      unpatched one at run time (native-handle.ts warns about the latter).
 *
 * Idempotent: the pristine source is kept beside the patched one (node-zk.cpp.zk-elect-orig) and
 * every run patches from it, so a changed patch re-applies cleanly. A binding whose source does
 * not match (another version of `zookeeper`) is left alone with a warning: the install must not
 * fail for it, and the client warns at run time.
 *
 * Usage: node src/binding/patch-zookeeper-binding.mjs [--dir <zookeeper package dir>] [--check]
 *   --check: exit 1 unless the installed binding is patched with this version of the patch.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PATCH_VERSION = 2;

/** While connected, the C client re-resolves the connect string at most this often (ms). */
const RESOLVE_DELAY_MS = 10_000;

/** Each edit must match exactly once in the pristine source. */
export const EDITS = [
  {
    why: 'interest error: drop the poll handle while the closed descriptor number is still free',
    find: `        if (rc) {
            LOG_ERROR("yield:zookeeper_interest returned error: %d - %s\\n", rc, zerror(rc));
            return;
        }`,
    replace: `        if (rc) {
            LOG_ERROR("yield:zookeeper_interest returned error: %d - %s\\n", rc, zerror(rc));
            /* zk-elect: the C client has usually closed its socket on this path; a handle kept on
             * the old number would later epoll_ctl(DEL) whatever Node opened under that number. */
            if (zk_io) {
                uv_close((uv_handle_t*) zk_io, delete_on_close);
                zk_io = NULL;
            }
            fd = -1;
            return;
        }`,
  },
  {
    why: 'a failed uv_poll_init leaves no uninitialised handle behind',
    find: `             #ifdef WIN32
             	uv_poll_init_socket(Nan::GetCurrentEventLoop(), zk_io, fd);
             #else
             	uv_poll_init(Nan::GetCurrentEventLoop(), zk_io, fd);
             #endif
        }`,
    replace: `             #ifdef WIN32
             	int init_rc = uv_poll_init_socket(Nan::GetCurrentEventLoop(), zk_io, fd);
             #else
             	int init_rc = uv_poll_init(Nan::GetCurrentEventLoop(), zk_io, fd);
             #endif
             /* zk-elect: starting a handle whose init failed asserts in libuv or corrupts memory. */
             if (init_rc != 0) {
                LOG_ERROR("yield: uv_poll_init(fd=%i) failed: %s", fd, uv_strerror(init_rc));
                free(zk_io);
                zk_io = NULL;
                fd = -1;
                uv_timer_start(&zk_timer, &zk_timer_cb, delay > 0 ? delay : 1, delay > 0 ? delay : 1);
                return;
             }
        }`,
  },
  {
    why: 'resynchronise after an API call whose send made the C client drop its socket',
    find: `#define METHOD_EPILOG(call) \\
        int ret = (zk->zhandle ? (call) : ZINVALIDSTATE); \\
        RETURN_VALUE(info, Nan::New<Int32>(ret))`,
    replace: `#define METHOD_EPILOG(call) \\
        int ret = (zk->zhandle ? (call) : ZINVALIDSTATE); \\
        /* zk-elect: nonblocking_send() closes the socket on a send error (state NOTCONNECTED). */ \\
        if (zk->zhandle && !zk->is_closed && zoo_state(zk->zhandle) == ZOO_NOTCONNECTED_STATE) zk->yield(); \\
        RETURN_VALUE(info, Nan::New<Int32>(ret))`,
  },
  {
    why: 'resolve the connect string when connecting, not at every I/O event',
    find: `        if (!zhandle) {
            LOG_ERROR("zookeeper_init returned 0!");
            return false;
        }
        Ref();
`,
    replace: `        if (!zhandle) {
            LOG_ERROR("zookeeper_init returned 0!");
            return false;
        }
        /* zk-elect: by default zookeeper_interest() resolves every host of the connect string
         * (getaddrinfo: a netlink socket, and a /dev/urandom re-seed of the shuffle) after every
         * reply and notification. Names are still resolved at every (re)connect; while a
         * connection is up, at most once per RESOLVE_DELAY_MS. */
        zoo_set_servers_resolution_delay(zhandle, ${RESOLVE_DELAY_MS});
        Ref();
`,
  },
  {
    why: 'a marker the client can read at run time',
    find: `        NODE_DEFINE_CONSTANT(constructor, ZSESSIONMOVED);
`,
    replace: `        NODE_DEFINE_CONSTANT(constructor, ZSESSIONMOVED);
        /* zk-elect: this binding carries zk-elect's patch (src/binding/patch-zookeeper-binding.mjs). */
        Nan::Set(constructor, LOCAL_STRING("ZK_ELECT_PATCH"), Nan::New<Int32>(${PATCH_VERSION}));
`,
  },
];

const PATCHED_PREFIX = '/* zk-elect binding patch';
const MARKER = `${PATCHED_PREFIX} v${PATCH_VERSION} */\n`;

/** The patched source, or a list of the edits that did not match exactly once. */
export function patchSource(pristine) {
  let text = pristine;
  const missing = [];
  for (const edit of EDITS) {
    const at = text.indexOf(edit.find);
    if (at < 0 || text.indexOf(edit.find, at + 1) >= 0) {
      missing.push(edit.why);
      continue;
    }
    text = text.slice(0, at) + edit.replace + text.slice(at + edit.find.length);
  }
  return missing.length ? { missing } : { text: MARKER + text };
}

function packageDir(args) {
  const i = args.indexOf('--dir');
  if (i >= 0 && args[i + 1]) return path.resolve(args[i + 1]);
  // Resolve from the project that depends on zk-elect too (npm may hoist `zookeeper` above us).
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('zookeeper/package.json', { paths: [process.env.INIT_CWD ?? process.cwd(), path.dirname(fileURLToPath(import.meta.url))] }));
}

/** node-gyp: the one npm runs scripts with, else one on PATH, else the one npm bundles. */
function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && fs.existsSync(fromNpm)) return [process.execPath, fromNpm];
  const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (fs.existsSync(bundled)) return [process.execPath, bundled];
  return ['node-gyp'];
}

function main() {
  const args = process.argv.slice(2);
  const dir = packageDir(args);
  const source = path.join(dir, 'src', 'node-zk.cpp');
  const pristineCopy = `${source}.zk-elect-orig`;
  const binary = path.join(dir, 'build', 'Release', 'zookeeper.node');
  const current = fs.readFileSync(source, 'utf8');
  const upToDate = () => current.startsWith(MARKER) && fs.existsSync(binary) && fs.statSync(binary).mtimeMs >= fs.statSync(source).mtimeMs;

  if (args.includes('--check')) {
    if (upToDate()) return;
    console.error(`zk-elect: the zookeeper binding in ${dir} is not patched (v${PATCH_VERSION}) or not rebuilt since; run: node src/binding/patch-zookeeper-binding.mjs`);
    process.exit(1);
  }

  // An unpatched source is the pristine one (a fresh install, or another version of the package:
  // a pristine copy left from before must not win over it); a patched one has its copy beside it.
  const currentIsPatched = current.startsWith(PATCHED_PREFIX);
  if (currentIsPatched && !fs.existsSync(pristineCopy)) {
    console.error(`zk-elect: ${source} is patched but its pristine copy is missing; reinstall zookeeper (npm ci) and run this again`);
    process.exit(1);
  }
  const pristine = currentIsPatched ? fs.readFileSync(pristineCopy, 'utf8') : current;
  const result = patchSource(pristine);
  if (!result.text) {
    console.warn(
      `zk-elect: WARNING: could not patch the zookeeper binding in ${dir} (its source differs from the version this patch was written for: ${result.missing.join('; ')}). ` +
        'The unpatched binding can take one of this process\'s own sockets out of the event loop after a connection timeout.',
    );
    return;
  }
  if (current === result.text && upToDate()) return;
  if (!currentIsPatched) fs.writeFileSync(pristineCopy, pristine);
  fs.writeFileSync(source, result.text);
  const [cmd, ...pre] = nodeGyp();
  // `build` recompiles only node-zk.cpp when the package's own install left a build tree (seconds);
  // otherwise (a prebuilt binary was used) a full rebuild compiles the C client too.
  const verb = fs.existsSync(path.join(dir, 'build', 'Makefile')) ? 'build' : 'rebuild';
  try {
    execFileSync(cmd, [...pre, verb], { cwd: dir, stdio: 'pipe', maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    // Not fatal for the install (the binding as it was still loads, and warns at run time);
    // the source is put back so the next run tries again from a clean state.
    fs.writeFileSync(source, current);
    console.warn(`zk-elect: WARNING: rebuilding the patched zookeeper binding in ${dir} failed; it stays unpatched:\n${String(e.stderr ?? e.message).slice(-4000)}`);
    return;
  }
  console.log(`zk-elect: patched and rebuilt the zookeeper binding in ${dir} (patch v${PATCH_VERSION})`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
