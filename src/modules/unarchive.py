# The part of orch's unarchive module that runs on the target, in Python 3 (as get_url; see get-url-script.ts). It
# takes Ansible 2.14's decisions: the handler picked in Ansible's order (zip by unzip/zipinfo, then GNU tar with
# -z, none, -j, -J, zstd), "already unarchived" from `tar --diff` (the same lines counted) or, for zip, from
# `zipinfo -T -s` compared member by member with dest (type, mtime, size, CRC32, mode, owner, group), then
# mode/owner/group set on every member.
#
# Protocol with the TypeScript side (src/modules/unarchive.ts through runPython in src/modules/python.ts):
# - run as `python3 -c <this file>` (or the host's ansible_python_interpreter), with the task's become applied;
#   this header (the leading comment lines) is dropped before sending, the rest goes as it is written here;
# - stdin: one JSON object, the module's parameters as unarchive.ts prepared them (src: the archive on the host,
#   already copied there unless remote_src; dest, exclude, include, extra_opts, list_files, keep_newer,
#   validate_certs, mode, owner, group), `check`, and `cleanup`: a directory (the copy) or null, removed however
#   the script ends;
# - stdout: exactly one JSON object, Ansible's result (changed, handler, dest, src, extract_results, files...),
#   written by done(); a failure is {failed: true, msg, ...} by fail(), which the TypeScript side raises as the
#   task's failure. The exit status is 0 either way; anything else (no JSON on stdout) is reported as a failed
#   command with its stderr.
#
# The build (package.json) copies this file into dist/modules/, where pythonScript (python.ts) reads it at run time.

import atexit, binascii, codecs, datetime, fnmatch, grp, json, os, pwd, re, shutil, stat, subprocess, sys, tempfile, time, zipfile

p = json.load(sys.stdin)
for k in ('src', 'dest'):
    p[k] = os.path.expanduser(os.path.expandvars(p[k]))
src, dest, check = p['src'], p['dest'], p['check']
excludes, includes, opts = p['exclude'], p['include'], p['extra_opts']
ENV = dict(os.environ, LANG='C.UTF-8', LC_ALL='C.UTF-8', LC_MESSAGES='C.UTF-8', LANGUAGE='C.UTF-8')


# the copied archive (or a download) goes however the script ends
atexit.register(lambda: p.get('cleanup') and shutil.rmtree(p['cleanup'], ignore_errors=True))


def done(**kw):
    sys.stdout.write(json.dumps(kw))
    sys.exit(0)


def fail(msg, **kw):
    kw.update(failed=True, msg=msg)
    done(**kw)


def run(cmd, cwd=None):
    r = subprocess.run(cmd, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return r.returncode, r.stdout.decode('utf-8', 'surrogateescape'), r.stderr.decode('utf-8', 'surrogateescape')


def which(name):
    return shutil.which(name, path=os.environ.get('PATH', '') + ':/sbin:/usr/sbin:/usr/local/sbin')


class Zip:
    name = 'ZipArchive'

    def can_handle(self):
        # Ansible's ZipArchive (unzip and zipinfo), then ZipZArchive (zipinfo as unzip -Z)
        self.unzip, zipinfo = which('unzip'), which('zipinfo')
        if not self.unzip:
            return ["Unable to find required '%s' binary in the path." % "' or '".join(['unzip'] + ([] if zipinfo else ['zipinfo'])),
                    "Unable to find required 'unzip' or 'unzip' binary in the path."]
        self.zipinfo = [zipinfo] if zipinfo else [self.unzip, '-Z']
        rc, _, err = run([self.unzip, '-l', src])
        return None if rc == 0 else 'Command "%s" could not handle archive: %s' % (self.unzip, err)

    def files(self):
        out = []
        with zipfile.ZipFile(src) as z:
            for member in z.namelist():
                if includes:
                    out.extend(member for pat in includes if fnmatch.fnmatch(member, pat))
                elif not any(fnmatch.fnmatch(member, pat) for pat in excludes):
                    out.append(member)
            self.crcs = dict((i.filename, i.CRC) for i in z.infolist())
        return out

    def is_unarchived(self):
        cmd = self.zipinfo + ['-T', '-s', src] + (['-x'] + excludes if excludes else []) + includes
        rc, listing, err = run(cmd)
        unarchived, diff, out, changed_paths = rc == 0, '', '', []
        umask = os.umask(0)
        os.umask(umask)
        run_uid, run_gid = os.getuid(), os.getgid()
        fut_uid = lookup(pwd.getpwnam, pwd.getpwuid, p['owner'], run_uid).pw_uid if p['owner'] else run_uid
        fut_gid = lookup(grp.getgrnam, grp.getgrgid, p['group'], run_gid).gr_gid if p['group'] else run_gid
        for line in listing.splitlines():
            pcs = line.split(None, 7)
            if len(pcs) != 8 or len(pcs[0]) not in (7, 10) or len(pcs[6]) != 15:
                continue
            if pcs[0][0] not in 'dl-?' or not frozenset(pcs[0][1:]).issubset('rwxstah-'):
                continue
            ztype, permstr, size, path = pcs[0][0], pcs[0][1:], int(pcs[3]), pcs[7]
            if path in excludes:
                continue
            ftype = 'd' if path.endswith('/') else 'L' if ztype == 'l' else 'f'
            file_umask = 0
            if len(permstr) == 6:
                permstr = 'rwxrwxrwx' if path.endswith('/') or permstr == 'rwx---' else 'rw-rw-rw-'
                file_umask = umask
            target = os.path.join(dest, path)
            try:
                st = os.lstat(target)
            except OSError:
                changed_paths.append(path)
                diff += '>%s++++++.?? %s\n' % (ftype, path)
                continue
            kind_ok = {'d': stat.S_ISDIR, 'f': stat.S_ISREG, 'L': stat.S_ISLNK}[ftype](st.st_mode)
            if not kind_ok:
                changed_paths.append(path)
                diff += 'c%s++++++.?? %s\n' % (ftype, path)
                continue
            itemized = list('.%s.......??' % ftype)
            change = False
            if stat.S_ISREG(st.st_mode):
                stamp = time.mktime(datetime.datetime(*time.strptime(pcs[6], '%Y%m%d.%H%M%S')[0:6]).timetuple())
                if p['keep_newer']:
                    if stamp > st.st_mtime:
                        change, itemized[4] = True, 't'
                    elif stamp < st.st_mtime:
                        excludes.append(path)
                        continue
                elif stamp != st.st_mtime:
                    change, itemized[4] = True, 't'
                if size != st.st_size:
                    change, itemized[3] = True, 's'
                if crc32(target) != self.crcs.get(path):
                    change, itemized[2] = True, 'c'
            if ftype != 'L':
                if p['mode']:
                    mode = want_mode(st)
                else:
                    mode = sum(2 ** i for i, c in enumerate(permstr[::-1]) if c in 'rwxst') & ~(0 if ztype == '?' else file_umask)
                if mode != stat.S_IMODE(st.st_mode):
                    change, itemized[5] = True, 'p'
            if st.st_uid != fut_uid:
                change, itemized[6] = True, 'o'
            if st.st_gid != fut_gid:
                change, itemized[6] = True, 'g'
            if change:
                changed_paths.append(path)
                diff += '%s %s\n' % (''.join(itemized), path)
        return dict(unarchived=unarchived and not changed_paths, rc=rc, out=out, err=err, cmd=cmd, diff=diff)

    def unarchive(self):
        cmd = [self.unzip, '-o'] + opts + [src] + (['-x'] + excludes if excludes else []) + includes + ['-d', dest]
        rc, out, err = run(cmd)
        return dict(cmd=cmd, rc=rc, out=out, err=err)


class Tar:
    def __init__(self, name, flag):
        self.name, self.flag = name, flag
        self.excludes = [x.rstrip('/') for x in excludes]

    def args(self, action, attrs=False):
        cmd = [self.tar, action, '-C', dest] + ([self.flag] if self.flag else [])
        if opts:
            cmd += ['--show-transformed-names'] + opts
        if attrs:
            cmd += ['--owner=' + p['owner']] if p['owner'] else []
            cmd += ['--group=' + p['group']] if p['group'] else []
            cmd += ['--keep-newer-files'] if p['keep_newer'] else []
        return cmd + ['--exclude=' + x for x in self.excludes] + ['-f', src] + includes

    def can_handle(self):
        self.tar = which('gtar') or which('tar')
        if not self.tar:
            return "Unable to find required 'gtar' or 'tar' binary in the path"
        out = run([self.tar, '--version'])[1]
        kind = 'bsd' if out.startswith('bsdtar') else 'gnu' if out.startswith('tar') and 'GNU' in out else None
        if kind != 'gnu':
            return 'Command "%s" detected as tar type %s. GNU tar required.' % (self.tar, kind)
        rc, out, err = run(self.args('--list'), cwd=dest)
        if rc != 0:
            return 'Command "%s" could not handle archive: Unable to list files in the archive: %s' % (self.tar, err)
        self._files = []
        for name in out.splitlines():
            name = codecs.escape_decode(name)[0].decode('utf-8', 'surrogateescape').lstrip('/')
            if not any(fnmatch.fnmatch(name, x) for x in self.excludes):
                self._files.append(name)
        return None if self._files else 'Command "%s" found no files in archive. Empty archive files are not supported.' % self.tar

    def files(self):
        return self._files

    def is_unarchived(self):
        cmd = self.args('--diff', attrs=True)
        rc, out, err = run(cmd, cwd=dest)
        root = os.getuid() == 0
        counted = ''
        for line in out.splitlines() + err.splitlines():
            if line.endswith(': : Warning: Cannot stat: No such file or directory'):
                continue
            if (root and not p['owner'] and line.endswith(': Uid differs')) or (root and not p['group'] and line.endswith(': Gid differs')) \
                    or (not p['mode'] and line.endswith(': Mode differs')) or line.endswith(': Mod time differs') \
                    or line.endswith(': Warning: Cannot stat: No such file or directory') or ': Invalid owner' in line or ': Invalid group' in line:
                counted += line + '\n'
        return dict(unarchived=not counted, rc=rc, out=counted, err=err, cmd=cmd)

    def unarchive(self):
        cmd = self.args('--extract', attrs=True)
        rc, out, err = run(cmd, cwd=dest)
        return dict(cmd=cmd, rc=rc, out=out, err=err)


def lookup(by_name, by_id, value, fallback):
    try:
        return by_name(value)
    except KeyError:
        try:
            return by_id(int(value))
        except (KeyError, ValueError):
            return by_id(fallback)


def crc32(path):
    crc = binascii.crc32(b'')
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(65536), b''):
            crc = binascii.crc32(block, crc)
    return crc & 0xffffffff


def want_mode(st):
    m = p['mode']
    if re.match(r'^0?[0-7]{3,4}$', m):
        return int(m, 8)
    # a symbolic mode: what chmod would make of this file's mode (GNU chmod on a scratch file)
    fd, scratch = tempfile.mkstemp()
    os.close(fd)
    try:
        os.chmod(scratch, stat.S_IMODE(st.st_mode))
        subprocess.run(['chmod', m, scratch], check=True)
        return stat.S_IMODE(os.stat(scratch).st_mode)
    finally:
        os.remove(scratch)


def set_attributes(path):
    """Mode, owner and group of one extracted path, as set_fs_attributes_if_different: True when changed."""
    changed = False
    st = os.lstat(path)
    if p['owner']:
        uid = lookup(pwd.getpwnam, pwd.getpwuid, p['owner'], os.getuid()).pw_uid
        if st.st_uid != uid:
            os.lchown(path, uid, -1)
            changed = True
    if p['group']:
        gid = lookup(grp.getgrnam, grp.getgrgid, p['group'], os.getgid()).gr_gid
        if st.st_gid != gid:
            os.lchown(path, -1, gid)
            changed = True
    if p['mode'] and not stat.S_ISLNK(st.st_mode):
        mode = want_mode(st)
        if stat.S_IMODE(st.st_mode) != mode:
            os.chmod(path, mode)
            changed = True
    return changed


if not os.path.exists(src):
    if not p['remote_src']:
        fail("Source '%s' failed to transfer" % src)
    if '://' not in src:
        fail("Source '%s' does not exist" % src)
    # Ansible's fetch_file: the URL downloaded into a private temp directory first
    import ssl, urllib.request, urllib.parse
    work = tempfile.mkdtemp()
    p['cleanup'] = work
    ctx = ssl.create_default_context()
    if not p['validate_certs']:
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    local = os.path.join(work, os.path.basename(urllib.parse.urlsplit(src).path) or 'download')
    try:
        with urllib.request.urlopen(src, context=ctx) as r, open(local, 'wb') as f:
            shutil.copyfileobj(r, f)
    except Exception as e:
        fail('Failure downloading %s, %s' % (src, e))
    src = local
if not os.access(src, os.R_OK):
    fail("Source '%s' not readable" % src)
if os.path.getsize(src) == 0:
    fail("Invalid archive '%s', the file is 0 bytes" % src)
if not os.path.isdir(dest):
    fail("Destination '%s' is not a directory" % dest)

handler, reasons = None, []
for h in (Zip(), Tar('TgzArchive', '-z'), Tar('TarArchive', ''), Tar('TarBzipArchive', '-j'), Tar('TarXzArchive', '-J'), Tar('TarZstdArchive', '--use-compress-program=zstd')):
    if check and isinstance(h, Tar):
        done(changed=False, skipped=True, msg='remote module (ansible.legacy.unarchive) does not support check mode when using gtar')
    reason = h.can_handle()
    if reason is None:
        handler = h
        break
    for r in reason if isinstance(reason, list) else [reason]:
        if r not in reasons:
            reasons.append(r)
if handler is None:
    fail('Failed to find handler for "%s". Make sure the required command to extract the file is installed.\n%s' % (src, '\n'.join(reasons)))

files = handler.files()
res = dict(handler=handler.name, dest=dest, src=src)
checked = handler.is_unarchived()
if check:
    res['changed'] = not checked['unarchived']
elif checked['unarchived']:
    res['changed'] = False
else:
    res['extract_results'] = handler.unarchive()
    if res['extract_results']['rc'] != 0:
        fail('failed to unpack %s to %s' % (src, dest), **res)
    res['changed'] = True
if checked.get('diff'):
    res['diff'] = {'prepared': checked['diff']}
if not check:
    tops = []
    for name in files:
        try:
            res['changed'] = set_attributes(os.path.join(dest, name)) or res['changed']
        except OSError as e:
            fail('Unexpected error when accessing exploded file: %s' % e, **res)
        if '/' in name and name.split('/')[0] not in tops:
            tops.append(name.split('/')[0])
    for top in tops:
        res['changed'] = set_attributes(os.path.join(dest, top)) or res['changed']
if p['list_files']:
    res['files'] = files
done(**res)
