# The part of orch's git module that runs on the target, in Python 3 (as get_url; see get-url-script.ts), driving
# the host's git as Ansible 2.14's git module does: clone when dest has no repository, otherwise fetch and switch to
# `version` (a branch, tag or commit), with the same decisions on before/after, local modifications (force), remote
# URL changes, depth, bare and check mode.
#
# Protocol with the TypeScript side (src/modules/git.ts through runPython in src/modules/python.ts):
# - run as `python3 -c <this file>` (or the host's ansible_python_interpreter), with the task's become applied;
#   this header (the leading comment lines) is dropped before sending, the rest goes as it is written here;
# - stdin: one JSON object, the module's parameters (dest, repo, version, remote, depth, bare, clone, update,
#   force, refspec, reference, single_branch, recursive, umask, ssh_opts, key_file, accept_hostkey,
#   accept_newhostkey, executable) plus `check` and `diff` (the task's check and diff modes);
# - stdout: exactly one JSON object, Ansible's result (changed, before, after, remote_url_changed, diff as
#   {prepared: text}, warnings...), written by done(); a failure is {failed: true, msg, ...} by fail(), which
#   the TypeScript side raises as the task's failure. The exit status is 0 either way; anything else (no JSON
#   on stdout) is reported as a failed command with its stderr.
#
# The build (package.json) copies this file into dist/modules/, where pythonScript (python.ts) reads it at run time.

import json, os, re, shutil, subprocess, sys

p = json.load(sys.stdin)
check, want_diff = p['check'], p['diff']
for k in ('dest', 'key_file', 'executable'):
    if p.get(k):
        p[k] = os.path.expanduser(os.path.expandvars(p[k]))
dest, version, remote, depth, bare = p['dest'], p['version'], p['remote'], p['depth'], p['bare']
result = dict(changed=False)
warnings = []


def done(**kw):
    result.update(kw)
    if warnings:
        result['warnings'] = warnings
    sys.stdout.write(json.dumps(result))
    sys.exit(0)


def fail(msg, **kw):
    # Ansible's failures carry only their own keys (the local-modifications one adds the result so far)
    result.clear()
    done(failed=True, msg=msg, **kw)


git = p['executable'] or shutil.which('git')
if not git:
    fail('Failed to find required executable "git" in paths: %s' % os.environ.get('PATH', ''))
ENV = dict(os.environ, LANG='C.UTF-8', LC_ALL='C.UTF-8', LC_MESSAGES='C.UTF-8', LC_CTYPE='C.UTF-8')


def run(args, cwd=None, check_rc=False):
    # as Ansible's run_command: a cwd that does not exist (yet) is ignored
    cwd = cwd if cwd and os.path.isdir(cwd) else None
    r = subprocess.run([git] + args, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = r.stdout.decode('utf-8', 'replace'), r.stderr.decode('utf-8', 'replace')
    if check_rc and r.returncode != 0:
        fail(err.rstrip() or out.rstrip(), cmd=' '.join([git] + args), rc=r.returncode, stdout=out, stderr=err)
    return r.returncode, out, err


if p['umask'] is not None:
    os.umask(int(p['umask'], 8))

repo = p['repo']
if os.path.expanduser(repo).startswith('/'):
    repo = 'file://' + os.path.expanduser(repo)

ssh_opts = (os.environ.get('GIT_SSH_OPTS', '') + ' ' + (p['ssh_opts'] or '')).strip()
if p['accept_hostkey'] and 'StrictHostKeyChecking=no' not in ssh_opts:
    ssh_opts += ' -o StrictHostKeyChecking=no'
if p['accept_newhostkey'] and 'StrictHostKeyChecking' not in ssh_opts:
    ssh_opts += ' -o StrictHostKeyChecking=accept-new'
if 'BatchMode=yes' not in ssh_opts:
    ssh_opts += ' -o BatchMode=yes'
if p['key_file']:
    ssh_opts += ' -i %s -o IdentitiesOnly=yes' % p['key_file']
ENV['GIT_SSH_COMMAND'] = os.environ.get('GIT_SSH', os.environ.get('GIT_SSH_COMMAND', 'ssh')) + ' ' + ssh_opts


def repo_path():
    path = dest if bare else os.path.join(dest, '.git')
    if os.path.isfile(path):
        with open(path) as f:
            prefix, gitdir = f.read().rstrip().split('gitdir: ', 1)
        if prefix:
            fail('Current repo does not have a valid reference to a separate Git dir or it refers to the invalid path')
        path = gitdir if os.path.isabs(gitdir) else os.path.join(dest, gitdir)
    return path


def rev(ref='HEAD'):
    return run(['rev-parse', ref], cwd=dest)[1].rstrip('\n')


def branches():
    rc, out, err = run(['branch', '--no-color', '-a'], cwd=dest)
    if rc != 0:
        fail('Could not determine branch data - received %s' % out, stdout=out, stderr=err)
    return [line.strip() for line in out.split('\n') if line.strip()]


def is_local_branch(name):
    b = branches()
    return name in b or '* %s' % name in b


def head_branch():
    detached = any(b.startswith('* ') and ('no branch' in b or 'detached from' in b or 'detached at' in b) for b in branches())
    headfile = os.path.join(repo_path(), 'refs', 'remotes', remote, 'HEAD') if detached else os.path.join(repo_path(), 'HEAD')
    if not os.path.exists(headfile):
        return None
    with open(headfile) as f:
        raw = f.readline().replace('refs/remotes/%s' % remote, '', 1)
    return raw.split(' ')[-1].split('/', 2)[-1].rstrip('\n')


def ls_remote(where, kind, ref, cwd):
    return run(['ls-remote', where, kind, ref], cwd=cwd, check_rc=True)[1]


def is_remote_branch(where, cwd):
    return version in ls_remote(where, '-h', 'refs/heads/%s' % version, cwd)


def is_remote_tag(where, cwd):
    return version in ls_remote(where, '-t', 'refs/tags/%s' % version, cwd)


def remote_head(where):
    cloning = where in (p['repo'], 'file://' + os.path.expanduser(p['repo']))
    cwd = None if cloning else dest
    tag = False
    if version == 'HEAD':
        out = ls_remote(where, '-h', 'HEAD' if cloning else 'refs/heads/%s' % head_branch(), cwd)
    elif is_remote_branch(where, cwd):
        out = ls_remote(where, '-h', 'refs/heads/%s' % version, cwd)
    elif is_remote_tag(where, cwd):
        tag = True
        out = ls_remote(where, '-t', 'refs/tags/%s*' % version, cwd)
    else:
        return version
    if len(out) < 1:
        fail('Could not determine remote revision for %s' % version, stdout=out)
    if tag:
        for line in out.split('\n'):
            if line.endswith(version + '^{}'):
                out = line
                break
            elif line.endswith(version):
                out = line
    return out.split()[0]


def unfrack(path):
    return None if path is None else os.path.normpath(os.path.realpath(os.path.expanduser(os.path.expandvars(path))))


def remote_url():
    rc, out, _ = run(['ls-remote', '--get-url', remote], cwd=dest)
    return out.rstrip('\n') if rc == 0 else None


def set_remote_url():
    url = remote_url()
    if url == repo or unfrack(url) == unfrack(repo):
        return False
    rc, out, err = run(['remote', 'set-url', remote, repo], cwd=dest)
    if rc != 0:
        fail('Failed to set a new url %s for %s: %s %s' % (repo, remote, out, err))
    return url is not None


def fetch(ver):
    set_remote_url()
    cmd, refspecs = ['fetch'], []
    if depth:
        current = head_branch()
        if p['refspec']:
            refspecs.append(p['refspec'])
        elif ver == 'HEAD':
            refspecs.append(current)
        elif ver in ls_remote(repo, '-h', 'refs/heads/%s' % ver, dest):
            if current != ver:
                refspecs.append('+refs/heads/%s:refs/heads/%s' % (ver, ver))
            refspecs.append('+refs/heads/%s:refs/remotes/%s/%s' % (ver, remote, ver))
        elif ver in ls_remote(repo, '-t', 'refs/tags/%s' % ver, dest):
            refspecs.append('+refs/tags/%s:refs/tags/%s' % (ver, ver))
        if refspecs:
            cmd += ['--depth', str(depth)]
    if not depth or not refspecs:
        if bare:
            refspecs = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*']
        else:
            cmd.append('--tags')
        if p['refspec']:
            refspecs.append(p['refspec'])
    if p['force']:
        cmd.append('--force')
    cmd = cmd + [remote] + refspecs
    rc, out, err = run(cmd, cwd=dest)
    if rc != 0:
        fail('Failed to download remote objects and refs: %s %s' % (out, err), cmd=' '.join([git] + cmd))


def clone():
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    cmd = ['clone'] + (['--bare'] if bare else ['--origin', remote])
    branch_or_tag = is_remote_branch(repo, dest) or is_remote_tag(repo, dest)
    if depth:
        if version == 'HEAD' or p['refspec']:
            cmd += ['--depth', str(depth)]
        elif branch_or_tag:
            cmd += ['--depth', str(depth), '--branch', version]
        else:
            warnings.append('Ignoring depth argument. Shallow clones are only available for HEAD, branches, tags or in combination with refspec.')
    if p['reference']:
        cmd += ['--reference', p['reference']]
    if p['single_branch']:
        cmd.append('--single-branch')
        if branch_or_tag:
            cmd += ['--branch', version]
    run(cmd + [repo, dest], cwd=parent, check_rc=True)
    if bare and remote != 'origin':
        run(['remote', 'add', remote, repo], cwd=dest, check_rc=True)
    if p['refspec']:
        run(['fetch'] + (['--depth', str(depth)] if depth else []) + [remote, p['refspec']], cwd=dest, check_rc=True)


def switch_version():
    if version == 'HEAD':
        branch = head_branch()
        rc, out, err = run(['checkout', '--force', branch], cwd=dest)
        if rc != 0:
            fail('Failed to checkout branch %s' % branch, stdout=out, stderr=err, rc=rc)
        cmd = ['reset', '--hard', '%s/%s' % (remote, branch), '--']
    elif version in ls_remote(remote, '-h', 'refs/heads/%s' % version, dest):
        if depth and not is_local_branch(version):
            spec = ['+refs/heads/%s:refs/heads/%s' % (version, version), '+refs/heads/%s:refs/remotes/%s/%s' % (version, remote, version)]
            rc, out, err = run(['fetch', '--depth=%s' % depth, remote] + spec, cwd=dest)
            if rc != 0:
                fail('Failed to fetch branch from remote: %s' % version, stdout=out, stderr=err, rc=rc)
        if not is_local_branch(version):
            cmd = ['checkout', '--track', '-b', version, '%s/%s' % (remote, version)]
        else:
            rc, out, err = run(['checkout', '--force', version], cwd=dest)
            if rc != 0:
                fail('Failed to checkout branch %s' % version, stdout=out, stderr=err, rc=rc)
            cmd = ['reset', '--hard', '%s/%s' % (remote, version)]
    else:
        cmd = ['checkout', '--force', version]
    rc, out, err = run(cmd, cwd=dest)
    if rc != 0:
        msg = 'Failed to checkout %s' % version if version != 'HEAD' else 'Failed to checkout branch %s' % branch
        fail(msg, stdout=out, stderr=err, rc=rc)


def submodules_fetch():
    """Whether submodules need an update: one not checked out yet, or one whose commit differs after a fetch."""
    gitmodules = os.path.join(dest, '.gitmodules')
    if not os.path.exists(gitmodules):
        return False
    with open(gitmodules) as f:
        for line in f:
            if line.strip().startswith('path') and not os.path.exists(os.path.join(dest, line.split('=', 1)[1].strip(), '.git')):
                return True
    run(['submodule', 'foreach', git, 'fetch'], cwd=dest, check_rc=True)
    status = run(['submodule', 'status'], cwd=dest, check_rc=True)[1]
    return any(line[0] != ' ' for line in status.splitlines() if line)


def diff(before, after):
    if before is None:
        return {'prepared': '>> Newly checked out %s' % after}
    if before != after:
        fetch(after)
        rc, out, err = run(['diff', before, after], cwd=dest)
        if rc == 0 and out:
            return {'prepared': out}
        if rc == 0:
            return {'prepared': '>> No visual differences between %s and %s' % (before, after)}
        return {'prepared': '>> Failed to get proper diff between %s and %s%s' % (before, after, ':\n>> %s' % err if err else '')}
    return {}


if not dest and p['clone']:
    fail('the destination directory must be specified unless clone=no')
if dest:
    dest = os.path.abspath(dest)
result['before'] = None
local_mods = False
remote_url_changed = False
if (dest and not os.path.exists(os.path.join(repo_path(), 'config'))) or (not dest and not p['clone']):
    if check or not p['clone']:
        result.update(changed=True, after=remote_head(repo))
        if want_diff:
            result['diff'] = diff(None, result['after'])
        done()
    clone()
elif not p['update']:
    result['before'] = rev()
    done(after=result['before'])
else:
    if not bare:
        local_mods = any(not line.startswith('??') for line in run(['status', '--porcelain'], cwd=dest)[1].splitlines())
    result['before'] = rev()
    if local_mods:
        if not p['force']:
            fail('Local modifications exist in the destination: ' + dest + ' (force=no).', **dict(result))
        if not check:
            run(['reset', '--hard', 'HEAD'], cwd=dest, check_rc=True)
            result.update(changed=True, msg='Local modifications exist in the destination: ' + dest)
    if check:
        url = remote_url()
        remote_url_changed = bool(url and url != repo and unfrack(url) != unfrack(repo))
    else:
        remote_url_changed = set_remote_url()
    result['remote_url_changed'] = remote_url_changed
    if check:
        head = remote_head(remote)
        result.update(changed=result['before'] != head or remote_url_changed, after=head)
        if want_diff:
            d = diff(result['before'], head)
            if d:
                result['diff'] = d
        done()
    fetch(version)
    result['after'] = rev()

if not bare:
    switch_version()
submodules_updated = False
if p['recursive'] and not bare:
    submodules_updated = submodules_fetch()
    if submodules_updated:
        result['submodules_changed'] = True
        rc, out, err = run(['submodule', 'sync'], cwd=dest, check_rc=True)
        rc, out, err = run(['submodule', 'update', '--init', '--recursive'] + (['--force'] if p['force'] else []), cwd=dest)
        if rc != 0:
            fail('Failed to init/update submodules: %s' % out + err)
result['after'] = rev()
if result['before'] != result['after'] or local_mods or submodules_updated or remote_url_changed:
    result['changed'] = True
    if want_diff:
        d = diff(result['before'], result['after'])
        if d:
            result['diff'] = d
done()
