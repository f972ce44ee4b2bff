// The GitHub Action, tested as GitHub runs it: action.yml (and the example
// workflow that uses it) are validated with @action-validator/cli 0.6.0,
// then the action's composite steps run one by one with the environment a
// runner sets (GITHUB_ACTIONS, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT,
// GITHUB_EVENT_PATH, ...), GITHUB_API_URL pointing at Prism serving GitHub's
// own API description. Checked: the job summary, the step outputs, the
// annotations and the statuses that reached the peer.
//
// Two jobs run on a copy of the action's files, as a runner downloads them
// (no build/): the first misses the cache, installs, builds and saves; the
// second restores what the first saved, with failing apt-get, dpkg, make and
// compilers first on PATH, which must not be called. actions/cache/restore
// and actions/cache/save are played by a directory of saved keys.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
let passed = 0, failed = 0;
function check(name, ok, detail = '') {
	if (ok) passed++;
	else failed++;
	console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : `\n     ${detail}`}`);
}

// 1. Validation
const validator = path.join(here, 'node_modules/@action-validator/cli/cli.mjs');
for (const file of ['action.yml', 'configs/github-workflow.yml']) {
	const r = spawnSync(process.execPath, [validator, path.join(root, file)], { encoding: 'utf8' });
	check(`action-validator ${file}`, r.status === 0, (r.stdout + r.stderr).trim());
}
// and it must catch a broken action (a validator that passes everything proves nothing)
const broken = path.join(os.tmpdir(), `memgate-broken-action-${process.pid}.yml`);
fs.writeFileSync(broken, 'name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n');
const rb = spawnSync(process.execPath, [validator, broken], { encoding: 'utf8' });
fs.unlinkSync(broken);
check('action-validator rejects a step without shell', rb.status !== 0);

// 2. Prism, the GitHub API peer, on loopback with an OS-chosen port
const prismBin = path.join(root, 'tests/peer/node_modules/.bin/prism');
const prism = spawn(prismBin, ['mock', path.join(root, 'tests/peer/github-peer.json'), '-h', '127.0.0.1', '-p', '0'],
	{ stdio: ['ignore', 'pipe', 'pipe'], detached: true });
let prismLog = '';
const port = await new Promise((resolve, reject) => {
	const timer = setTimeout(() => reject(new Error('Prism did not start in 30 s')), 30000);
	const onData = (d) => {
		prismLog += d;
		const m = prismLog.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
		if (m) { clearTimeout(timer); resolve(Number(m[1])); }
	};
	prism.stdout.on('data', onData);
	prism.stderr.on('data', onData);
	prism.on('exit', (c) => reject(new Error(`Prism exited (${c}): ${prismLog}`)));
});
const stopPrism = () => { try { process.kill(-prism.pid, 'SIGTERM'); } catch { /* gone */ } };
process.on('exit', stopPrism);

// 3. The action as a runner downloads it: its files, no build/, no .git
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memgate-action-'));
const actionPath = path.join(tmp, 'action');
const listed = spawnSync('git', ['-C', root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
	{ encoding: 'utf8' });
if (listed.status === 0) {
	for (const f of listed.stdout.split('\0').filter((f) => f && fs.existsSync(path.join(root, f))))
		fs.cpSync(path.join(root, f), path.join(actionPath, f), { preserveTimestamps: true });
} else { // not a git checkout: everything but what a build or npm adds
	const skip = new Set(['.git', 'build', 'node_modules', '__pycache__']);
	fs.cpSync(root, actionPath, { recursive: true, preserveTimestamps: true,
		filter: (src) => !skip.has(path.basename(src)) });
}
const cacheStore = path.join(tmp, 'cache'); // key -> the saved directory
fs.mkdirSync(cacheStore);

// Failing stand-ins for everything a build would run: a cache hit calls none.
const fakes = path.join(tmp, 'fakes'), fakeLog = path.join(tmp, 'fakes.log');
fs.mkdirSync(fakes);
fs.writeFileSync(fakeLog, '');
for (const tool of ['apt-get', 'apt', 'dpkg', 'sudo', 'make', 'cc', 'gcc', 'c99', 'clang', 'ld', 'as', 'pkg-config'])
	fs.writeFileSync(path.join(fakes, tool), `#!/bin/sh\necho "${tool} $*" >>'${fakeLog}'\nexit 127\n`, { mode: 0o755 });

// 4. The composite steps, as the runner runs them, in a fresh workspace per job
const action = YAML.parse(fs.readFileSync(path.join(actionPath, 'action.yml'), 'utf8'));
const workload = path.join(root, 'build/workload');

// The few expression forms action.yml uses; anything else is an error, so
// the test cannot pass by skipping what it does not understand.
function lookup(ctx, ref) {
	const m = ref.match(/^steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)$/);
	if (m) return ctx.steps[m[1]]?.outputs?.[m[2]] ?? '';
	const [scope, key, ...more] = ref.split('.');
	const v = more.length ? undefined : ctx[scope]?.[key];
	if (v === undefined) throw new Error(`unknown expression ${ref}`);
	return String(v);
}
function evalExpr(ctx, e) {
	e = e.trim();
	let m = e.match(/^([A-Za-z0-9_.-]+)\s*(==|!=)\s*'([^']*)'$/);
	if (m) return (lookup(ctx, m[1]) === m[3]) === (m[2] === '==');
	m = e.match(/^([A-Za-z0-9_.-]+)$/);
	if (m) return lookup(ctx, m[1]);
	throw new Error(`unsupported expression ${e}`);
}
const interp = (ctx, s) => String(s).replace(/\$\{\{(.*?)\}\}/g, (_, e) => String(evalExpr(ctx, e)));
const stepOutputs = (file) => {
	const text = fs.readFileSync(file, 'utf8'), outs = {};
	for (const m of text.matchAll(/^([A-Za-z0-9_-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outs[m[1]] = m[3];
	for (const m of text.matchAll(/^([A-Za-z0-9_-]+)=(.*)$/gm)) outs[m[1]] = m[2];
	return outs;
};

// opts: event (default push), eventJson (the event file), inputs (over the defaults)
function runJob(name, sha, extraPath, opts = {}) {
	const ws = fs.mkdtempSync(path.join(tmp, `${name}-`));
	fs.writeFileSync(path.join(ws, 'memgate.json'), JSON.stringify({
		version: 1,
		fixtures: [
			{ name: 'small', command: [workload, 'hold', '8', '100'], limits: { tree_rss: '64MiB' } },
			{ name: 'big', command: [workload, 'hold', '64', '100'], limits: { tree_rss: '32MiB' } },
			// memgate's Python helper must come along with the binary
			{ name: 'py', command: ['python3', '-c', 'x = [bytearray(1000) for _ in range(5000)]'],
				python: { heap: 'tracemalloc' }, limits: { tree_rss: '256MiB' } },
		],
	}));
	fs.writeFileSync(path.join(ws, 'event.json'),
		JSON.stringify(opts.eventJson ?? { after: sha, ref: 'refs/heads/main' }));
	const summary = path.join(ws, 'summary.md');
	fs.writeFileSync(summary, '');
	const runnerEnv = {
		...process.env,
		PATH: extraPath ? `${extraPath}:${process.env.PATH}` : process.env.PATH,
		CI: 'true',
		GITHUB_ACTIONS: 'true',
		GITHUB_ACTION_PATH: actionPath,
		GITHUB_WORKSPACE: ws,
		GITHUB_STEP_SUMMARY: summary,
		GITHUB_EVENT_NAME: opts.event ?? 'push',
		GITHUB_EVENT_PATH: path.join(ws, 'event.json'),
		GITHUB_REPOSITORY: 'octo/memgate',
		GITHUB_SHA: sha,
		GITHUB_API_URL: `http://127.0.0.1:${port}`,
		GITHUB_SERVER_URL: 'https://github.com',
		GITHUB_RUN_ID: '42',
		RUNNER_TEMP: ws,
		RUNNER_OS: 'Linux',
		RUNNER_ARCH: 'X64',
		ImageOS: 'ubuntu24',
		ImageVersion: '20250101.1.0',
	};
	delete runnerEnv.MEMGATE_PYTHON_DIR;
	const inputs = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? '']));
	inputs.token = 'test-token';
	Object.assign(inputs, opts.inputs ?? {});
	const ctx = { inputs, github: { action_path: actionPath, token: 'test-token' }, steps: {} };
	const job = { ws, summary, ran: {}, outputs: {}, stdout: '', stderr: '', restored: null, saved: null, ctx };
	action.runs.steps.forEach((step, i) => {
		const label = step.id ?? step.name;
		if (step.if !== undefined && !evalExpr(ctx, step.if)) return;
		let status = 0, outputs = {};
		if (step.uses) {
			const w = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, interp(ctx, v)]));
			const saved = path.join(cacheStore, w.key);
			if (step.uses === 'actions/cache/restore@v4') {
				if (fs.existsSync(saved)) {
					fs.rmSync(w.path, { recursive: true, force: true });
					fs.cpSync(saved, w.path, { recursive: true, preserveTimestamps: true });
					outputs = { 'cache-hit': 'true', 'cache-primary-key': w.key, 'cache-matched-key': w.key };
					job.restored = w.key;
				} else outputs = { 'cache-primary-key': w.key }; // a miss sets no cache-hit
			} else if (step.uses === 'actions/cache/save@v4') {
				if (!fs.existsSync(w.path)) status = 1;
				else if (!fs.existsSync(saved)) fs.cpSync(w.path, saved, { recursive: true, preserveTimestamps: true });
				job.saved = w.key;
			} else throw new Error(`step ${label}: no stand-in for ${step.uses}`);
		} else {
			const env = { ...runnerEnv, GITHUB_OUTPUT: path.join(ws, `output-${i}.txt`) };
			fs.writeFileSync(env.GITHUB_OUTPUT, '');
			for (const [k, v] of Object.entries(step.env ?? {})) env[k] = interp(ctx, v);
			const cwd = path.resolve(ws, interp(ctx, step['working-directory'] ?? '.'));
			// GitHub's `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`
			const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', interp(ctx, step.run)],
				{ cwd, env, encoding: 'utf8', timeout: 300000 });
			status = r.status;
			outputs = stepOutputs(env.GITHUB_OUTPUT);
			job.stdout += r.stdout;
			job.stderr += r.stderr;
			job.outputFiles = { ...job.outputFiles, [label]: fs.readFileSync(env.GITHUB_OUTPUT, 'utf8') };
			if (r.status !== 0)
				console.log(`-- ${name}: step "${step.name}" exited ${r.status}\n${r.stdout}${r.stderr}`.trimEnd());
		}
		job.ran[label] = status;
		if (step.id) ctx.steps[step.id] = { outputs, outcome: status === 0 ? 'success' : 'failure' };
		job.outputs[label] = outputs;
	});
	return job;
}

// What every job must show, hit or miss
async function checkRun(name, job, sha) {
	check(`${name}: run step fails the job (a fixture is over its limit)`, job.ran.run === 1, `exit ${job.ran.run}`);
	const sum = fs.readFileSync(job.summary, 'utf8');
	check(`${name}: job summary: verdict first`, /^\*\*memgate: FAIL\*\*/m.test(sum), sum.slice(0, 200));
	check(`${name}: job summary: a chart of tree RSS`, sum.includes('xychart-beta'));
	const outs = job.outputs.run ?? {};
	const report = path.join(job.ws, 'memgate-report.json');
	check(`${name}: output verdict=fail`, outs.verdict === 'fail', JSON.stringify(outs));
	let rep = null;
	try { rep = JSON.parse(fs.readFileSync(outs.report, 'utf8')); } catch { /* checked next */ }
	check(`${name}: output report is the JSON report`, outs.report === report && rep?.verdict === 'fail', outs.report);
	check(`${name}: output peak_big`, Number(outs.peak_big) >= 64 * 1024 * 1024, outs.peak_big);
	// every fixture's five figures, named by the README's mapping, in bytes or empty
	const figureKeys = ['small', 'big', 'py'].flatMap((f) =>
		['tree-rss', 'cgroup', 'cgroup-anon', 'max-process-hwm', 'pss'].map((k) => `${f}-${k}`));
	check(`${name}: output <fixture>-<figure> for every fixture`,
		figureKeys.every((k) => k in outs && /^(\d+)?$/.test(outs[k])), JSON.stringify(outs));
	check(`${name}: output big-tree-rss is peak_big`, outs['big-tree-rss'] === outs.peak_big, outs['big-tree-rss']);
	check(`${name}: output big-max-process-hwm`, Number(outs['big-max-process-hwm']) >= 64 * 1024 * 1024,
		outs['big-max-process-hwm']);
	check(`${name}: no --pss, so no pss figure`, outs['small-pss'] === '' && outs['big-pss'] === '');
	const fx = rep?.fixtures?.find((f) => f.name === 'big');
	check(`${name}: output big-cgroup is the report's cgroup peak`,
		outs['big-cgroup'] === String(fx?.peak?.cgroup_bytes ?? ''), `${outs['big-cgroup']} vs ${fx?.peak?.cgroup_bytes}`);
	// the GITHUB_OUTPUT file itself: no name twice, heredocs closed
	const file = job.outputFiles?.run ?? '';
	const names = [...file.matchAll(/^([A-Za-z0-9_-]+)(?:=|<<)/gm)].map((m) => m[1]);
	check(`${name}: GITHUB_OUTPUT names each output once`, names.length === new Set(names).size &&
		names.includes('verdict') && names.includes('report') && names.includes('figures'), names.join(' '));
	// what a workflow gets from the action: figures, as the composite action maps it
	let figures = null;
	try { figures = JSON.parse(interp(job.ctx, action.outputs.figures.value)); } catch { /* checked next */ }
	check(`${name}: action output figures holds every figure, as the step outputs`,
		figures !== null && figureKeys.every((k) => (figures[k] === null ? '' : String(figures[k])) === outs[k]),
		JSON.stringify(figures));
	const py = rep?.fixtures?.find((f) => f.name === 'py');
	check(`${name}: the Python helper came with memgate (tracemalloc report)`,
		py?.verdict === 'pass' && py?.python_heap?.tool === 'tracemalloc' && py.python_heap.top?.length > 0,
		JSON.stringify(py?.python_heap ?? py?.reasons ?? null));
	check(`${name}: an ::error annotation for the failing fixture`,
		/^::error title=memgate%3A big::.*tree_rss/m.test(job.stdout),
		job.stdout.split('\n').filter((l) => l.startsWith('::')).join('\n'));
	check(`${name}: no annotation for the passing ones`, !/^::error title=memgate%3A (small|py)::/m.test(job.stdout));
	await new Promise((r) => setTimeout(r, 500)); // Prism logs after it answers
	const posts = prismLog.split(/(?=\[[^\]]*\] › \[HTTP SERVER\])/).filter((b) =>
		b.includes(`post /repos/octo/memgate/statuses/${sha}`));
	check(`${name}: three statuses posted to the commit`, posts.length === 3, `${posts.length} posts`);
	check(`${name}: every status passed validation and got 201`, posts.length > 0 && posts.every((b) =>
		b.includes('passed the validation rules') && b.includes('Responding with "201"')), posts.join('\n---\n'));
	check(`${name}: the token never shows in the output`, !job.stdout.includes('test-token'));
}

check('action outputs map the run step', action.outputs.verdict.value === '${{ steps.run.outputs.verdict }}' &&
	action.outputs.report.value === '${{ steps.run.outputs.report }}' &&
	action.outputs.figures?.value === '${{ steps.run.outputs.figures }}');
check('action input comment defaults to false, and reaches the run step',
	action.inputs.comment?.default === 'false' &&
	action.runs.steps.find((st) => st.id === 'run')?.env?.INPUT_COMMENT === '${{ inputs.comment }}');

// 5. First job: a cache miss. Install (nothing missing here), build, save.
const shaMiss = '0123456789abcdef0123456789abcdef01234567';
const miss = runJob('miss', shaMiss, null);
const key = miss.outputs.key?.key ?? '';
check('miss: the cache key names the image and the sources',
	/^memgate-static-1-Linux-X64-ubuntu24-20250101\.1\.0-[0-9a-f]{32}$/.test(key), key);
check('miss: nothing restored', miss.restored === null && (miss.outputs.cache['cache-hit'] ?? '') === '');
check('miss: install step succeeds', miss.ran["Install memgate's build dependencies"] === 0);
check('miss: build step succeeds', miss.ran['Build memgate'] === 0);
const built = path.join(actionPath, 'build/static/bin/memgate');
const ldd = spawnSync('ldd', [built], { encoding: 'utf8' }).stdout ?? '';
const needed = [...ldd.matchAll(/^\s*(\S+)/gm)].map((m) => path.basename(m[1]));
check('miss: the built memgate needs only libc at run time',
	needed.length > 0 && needed.every((l) => /^(linux-vdso|ld-linux|libc|libm)[.-]/.test(l)), ldd.trim());
check('miss: saved under the key', miss.saved === key &&
	fs.existsSync(path.join(cacheStore, key, 'bin/memgate')) &&
	fs.existsSync(path.join(cacheStore, key, 'share/memgate/python/sitecustomize.py')));
await checkRun('miss', miss, shaMiss);

// 6. Second job on a new runner: the action downloaded afresh (no build/), a
// cache hit. Nothing may be installed or compiled.
fs.rmSync(path.join(actionPath, 'build'), { recursive: true, force: true });
const shaHit = '89abcdef0123456789abcdef0123456789abcdef';
const hit = runJob('hit', shaHit, fakes);
check('hit: same key, restored', hit.outputs.key?.key === key && hit.restored === key &&
	hit.outputs.cache['cache-hit'] === 'true');
check('hit: no install, build or save step ran', !("Install memgate's build dependencies" in hit.ran) &&
	!('Build memgate' in hit.ran) && !("Save memgate's build" in hit.ran), JSON.stringify(hit.ran));
const calls = fs.readFileSync(fakeLog, 'utf8');
check('hit: no apt-get, dpkg, sudo, make or compiler was called', calls === '', calls.trim());
await checkRun('hit', hit, shaHit);

// 6b. A pull request with comment: true (a cache hit): the statuses on the
// head commit, and one comment on the pull request, the requests valid per
// GitHub's description (Prism answers with examples: the example comment is
// not memgate's, so memgate creates one).
const shaPr = 'fedcba9876543210fedcba9876543210fedcba98';
const pr = runJob('pr', '0000000000000000000000000000000000000000', fakes, {
	event: 'pull_request', inputs: { comment: 'true' },
	eventJson: { number: 7, pull_request: { number: 7, head: { sha: shaPr } } },
});
await checkRun('pr', pr, shaPr);
await new Promise((r) => setTimeout(r, 500));
const blocks = (re) => prismLog.split(/(?=\[[^\]]*\] › \[HTTP SERVER\])/).filter((b) => re.test(b));
const lists = blocks(/\] get \/repos\/octo\/memgate\/issues\/7\/comments /);
const creates = blocks(/\] post \/repos\/octo\/memgate\/issues\/7\/comments /);
check('pr: the comments were listed, validated, 200', lists.length === 1 &&
	lists[0].includes('passed the validation rules') && lists[0].includes('Responding with "200"'), lists.join('\n---\n'));
check('pr: one comment created, validated, 201', creates.length === 1 &&
	creates[0].includes('passed the validation rules') && creates[0].includes('Responding with "201"'),
	creates.join('\n---\n'));
check('pr: memgate says it commented', /commented on pull request #7: created comment 1\n/.test(pr.stderr),
	pr.stderr.split('\n').filter((l) => l.includes('comment')).join('\n'));
check('pr: the token never shows in stderr', !pr.stderr.includes('test-token'));
// a push with comment: true: a note, no comment, the job's outcome unchanged
const pushNote = runJob('push-comment', shaHit, fakes, { inputs: { comment: 'true' } });
check('push with comment: true: a note, no comment, the gate still fails the job',
	pushNote.ran.run === 1 && /memgate: note: no pull request comment posted: GITHUB_EVENT_NAME=push/.test(pushNote.stderr),
	pushNote.stderr.split('\n').filter((l) => l.includes('comment')).join('\n'));

// 7. The key follows what the binary is made of and where it runs
const keyOf = (env) => {
	const out = path.join(tmp, 'key-output');
	fs.writeFileSync(out, '');
	execFileSync(path.join(actionPath, 'action/cache-key.sh'), { env: { ...process.env, GITHUB_ACTION_PATH: actionPath,
		GITHUB_OUTPUT: out, RUNNER_OS: 'Linux', RUNNER_ARCH: 'X64', ImageOS: 'ubuntu24', ImageVersion: '20250101.1.0', ...env },
	stdio: 'ignore' });
	return stepOutputs(out).key;
};
check('key: as the jobs computed it', keyOf({}) === key);
check('key: another runner image, another key', keyOf({ ImageVersion: '20250108.2.0' }) !== key &&
	keyOf({ ImageOS: 'ubuntu22' }) !== key && keyOf({ RUNNER_ARCH: 'ARM64' }) !== key);
fs.appendFileSync(path.join(actionPath, 'gate/main.c'), '\n');
check('key: a changed source, another key', keyOf({}) !== key);
check('key: without ImageOS (self-hosted), the distribution and its libc',
	/-linux|-[a-z]+[0-9.]*-glibc[0-9.]+-[0-9a-f]{32}$/.test(keyOf({ ImageOS: '' })), keyOf({ ImageOS: '' }));

stopPrism();
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`action: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
