// The GitHub Action, tested as GitHub runs it: action.yml (and the example
// workflow that uses it) are validated with @action-validator/cli 0.6.0,
// then the action's composite steps run one by one with the environment a
// runner sets (GITHUB_ACTIONS, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT,
// GITHUB_EVENT_PATH, ...), GITHUB_API_URL pointing at Prism serving GitHub's
// own API description. Checked: the job summary, the step outputs, the
// annotations and the statuses that reached the peer.
import { spawn, spawnSync } from 'node:child_process';
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

// 3. A workspace the way actions/checkout leaves one, and the runner's files
const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'memgate-action-'));
const workload = path.join(root, 'build/workload');
fs.writeFileSync(path.join(ws, 'memgate.json'), JSON.stringify({
	version: 1,
	fixtures: [
		{ name: 'small', command: [workload, 'hold', '8', '100'], limits: { tree_rss: '64MiB' } },
		{ name: 'big', command: [workload, 'hold', '64', '100'], limits: { tree_rss: '32MiB' } },
	],
}));
const sha = '0123456789abcdef0123456789abcdef01234567';
fs.writeFileSync(path.join(ws, 'event.json'), JSON.stringify({ after: sha, ref: 'refs/heads/main' }));
const summary = path.join(ws, 'summary.md'), outputs = path.join(ws, 'outputs.txt');
fs.writeFileSync(summary, '');
fs.writeFileSync(outputs, '');
const runnerEnv = {
	...process.env,
	CI: 'true',
	GITHUB_ACTIONS: 'true',
	GITHUB_ACTION_PATH: root,
	GITHUB_WORKSPACE: ws,
	GITHUB_STEP_SUMMARY: summary,
	GITHUB_OUTPUT: outputs,
	GITHUB_EVENT_NAME: 'push',
	GITHUB_EVENT_PATH: path.join(ws, 'event.json'),
	GITHUB_REPOSITORY: 'octo/memgate',
	GITHUB_SHA: sha,
	GITHUB_API_URL: `http://127.0.0.1:${port}`,
	GITHUB_SERVER_URL: 'https://github.com',
	GITHUB_RUN_ID: '42',
	RUNNER_TEMP: ws,
};

// 4. The composite steps, as the runner runs them
const action = YAML.parse(fs.readFileSync(path.join(root, 'action.yml'), 'utf8'));
const inputs = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? '']));
inputs.token = 'test-token';
const ctx = { inputs, github: { action_path: root, token: 'test-token' } };
const expr = (s) => String(s).replace(/\$\{\{\s*([a-z_]+)\.([a-z_-]+)\s*\}\}/gi, (_, scope, key) => {
	const v = ctx[scope]?.[key];
	if (v === undefined) throw new Error(`unknown expression ${scope}.${key}`);
	return String(v).replace(/\$\{\{\s*github\.token\s*\}\}/, 'test-token');
});
const results = {};
let stdoutAll = '';
for (const step of action.runs.steps) {
	const env = { ...runnerEnv };
	for (const [k, v] of Object.entries(step.env ?? {})) env[k] = expr(v);
	const cwd = path.resolve(ws, expr(step['working-directory'] ?? '.'));
	// GitHub's `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`
	const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', expr(step.run)],
		{ cwd, env, encoding: 'utf8', timeout: 300000 });
	results[step.id ?? step.name] = r.status;
	stdoutAll += r.stdout;
	if (r.status !== 0)
		console.log(`-- step "${step.name}" exited ${r.status}\n${r.stdout}${r.stderr}`.trimEnd());
}
check('install step succeeds', results["Install memgate's build dependencies"] === 0);
check('build step succeeds', results['Build memgate'] === 0);
check('run step fails the job (a fixture is over its limit)', results.run === 1, `exit ${results.run}`);

// 5. What the runner would show and keep
const sum = fs.readFileSync(summary, 'utf8');
check('job summary: verdict first', /^\*\*memgate: FAIL\*\*/m.test(sum), sum.slice(0, 200));
check('job summary: a chart of tree RSS', sum.includes('xychart-beta'));
const outText = fs.readFileSync(outputs, 'utf8');
const outs = {};
for (const m of outText.matchAll(/^([A-Za-z0-9_-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outs[m[1]] = m[3];
for (const m of outText.matchAll(/^([A-Za-z0-9_-]+)=(.*)$/gm)) outs[m[1]] = m[2];
check('output verdict=fail', outs.verdict === 'fail', JSON.stringify(outs));
check('output report is the JSON report', outs.report === path.join(ws, 'memgate-report.json') &&
	JSON.parse(fs.readFileSync(outs.report, 'utf8')).verdict === 'fail', outs.report);
check('output peak_big', Number(outs.peak_big) >= 64 * 1024 * 1024, outs.peak_big);
check('action outputs map the run step', action.outputs.verdict.value === '${{ steps.run.outputs.verdict }}' &&
	action.outputs.report.value === '${{ steps.run.outputs.report }}');
check('an ::error annotation for the failing fixture', /^::error title=memgate%3A big::.*tree_rss/m.test(stdoutAll),
	stdoutAll.split('\n').filter((l) => l.startsWith('::')).join('\n'));
check('no annotation for the passing one', !/^::error title=memgate%3A small::/m.test(stdoutAll));

// 6. What reached the API: two statuses on the pushed commit, both valid (201)
await new Promise((r) => setTimeout(r, 500)); // Prism logs after it answers
const posts = prismLog.split(/(?=\[[^\]]*\] › \[HTTP SERVER\])/).filter((b) =>
	b.includes(`post /repos/octo/memgate/statuses/${sha}`));
check('two statuses posted to the commit', posts.length === 2, `${posts.length} posts`);
check('every status passed validation and got 201', posts.length > 0 && posts.every((b) =>
	b.includes('passed the validation rules') && b.includes('Responding with "201"')), posts.join('\n---\n'));
check('the token never shows in the output', !stdoutAll.includes('test-token'));

stopPrism();
fs.rmSync(ws, { recursive: true, force: true });
console.log(`action: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
