import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apply, applyTwiceConverges, HOSTS, onHost, results, writePlaybook } from '../helpers/lab.js';

const host = HOSTS[0] as string;
const base = '/srv/orch-git-test';
const ENV =
  "GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@e GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'";
const sha = (ref: string) => onHost(host, `git -C ${base}/src rev-parse ${ref}`).stdout.trim();

function makeRepo(): void {
  const r = onHost(
    host,
    `rm -rf ${base} && mkdir -p ${base} && cd ${base} && git init -q -b main src && cd src && export ${ENV} &&
     echo 1 > f && git add f && git commit -qm one && git tag v1 &&
     echo 2 > f && git commit -qam two &&
     git checkout -qb feature && echo 3 > g && git add g && git commit -qm three && git checkout -q main`,
  );
  assert.equal(r.code, 0, r.stderr);
}

test('git clones a local repository at HEAD, a tag, a branch, a commit, shallow and bare; second run ok; checkouts checked with git over ssh', () => {
  makeRepo();
  const pb = writePlaybook(`
- hosts: ${host}
  become: yes
  gather_facts: no
  tasks:
    - git: repo=${base}/src dest=${base}/head
    - git: repo=file://${base}/src dest=${base}/tag version=v1
    - git: repo=file://${base}/src dest=${base}/branch version=feature
    - git: repo=${base}/src dest=${base}/commit version=${sha('v1')}
    - git: repo=file://${base}/src dest=${base}/shallow depth=1
    - git: repo=${base}/src dest=${base}/bare.git bare=yes
`);
  applyTwiceConverges(pb);
  const head = (dir: string) => onHost(host, `git -C ${base}/${dir} rev-parse HEAD`).stdout.trim();
  assert.equal(head('head'), sha('main'));
  assert.equal(head('tag'), sha('v1'));
  assert.equal(head('branch'), sha('feature'));
  assert.equal(onHost(host, `git -C ${base}/branch rev-parse --abbrev-ref HEAD`).stdout.trim(), 'feature');
  assert.equal(head('commit'), sha('v1'));
  assert.equal(
    onHost(
      host,
      `git -C ${base}/shallow rev-parse --is-shallow-repository; git -C ${base}/shallow rev-list --count HEAD`,
    ).stdout,
    'true\n1\n',
  );
  assert.equal(onHost(host, `git -C ${base}/bare.git rev-parse --is-bare-repository`).stdout.trim(), 'true');
  assert.equal(onHost(host, `cat ${base}/head/f`).stdout, '2\n');
});

test('git: local modifications fail without force and are reset with it; a new upstream commit is pulled (before/after); check mode clones nothing', () => {
  makeRepo();
  const task = (force: boolean) => `
- hosts: ${host}
  become: yes
  gather_facts: no
  tasks:
    - name: clone
      git: repo=${base}/src dest=${base}/w force=${force ? 'yes' : 'no'}
      register: r
    - name: report
      debug: msg="{{ r.before }} {{ r.after }}"
`;
  const pb = writePlaybook(task(false));
  applyTwiceConverges(pb);
  onHost(host, `echo dirty >> ${base}/w/f`);
  const refused = apply(pb);
  assert.equal(results(refused, 'clone')[0]?.status, 'failed');
  assert.equal(
    results(refused, 'clone')[0]?.msg,
    `Local modifications exist in the destination: ${base}/w (force=no).`,
  );
  assert.equal(onHost(host, `cat ${base}/w/f`).stdout, '2\ndirty\n', 'left alone');
  const forced = apply(writePlaybook(task(true)));
  assert.equal(results(forced, 'clone')[0]?.status, 'changed');
  assert.equal(onHost(host, `cat ${base}/w/f`).stdout, '2\n', 'reset');

  const before = sha('main');
  onHost(host, `cd ${base}/src && export ${ENV} && echo 4 > f && git commit -qam four`);
  const pulled = apply(pb);
  assert.equal(results(pulled, 'clone')[0]?.status, 'changed');
  assert.equal(results(pulled, 'report')[0]?.msg, `${before} ${sha('main')}`);
  assert.equal(onHost(host, `cat ${base}/w/f`).stdout, '4\n');

  const check = apply(writePlaybook(task(false).replace(`${base}/w `, `${base}/never `)), ['--check']);
  assert.equal(results(check, 'clone')[0]?.status, 'changed');
  assert.equal(onHost(host, `test -e ${base}/never || echo absent`).stdout.trim(), 'absent');
});
