import { PY_DONE_FAIL } from './python.js';

/**
 * The part of get_url that runs on the target, in Python 3 (the interpreter Ansible itself needs on every
 * host it manages; its urllib does http and https with certificate checks, auth, redirects, timeouts, and
 * hashlib has every checksum algorithm Ansible accepts). It follows ansible.builtin.get_url's main() step by
 * step: same decisions, same messages, same result keys. Parameters come as JSON on stdin (the password never
 * appears on a command line); one JSON result is printed. Mode, owner and group are left to the caller.
 */
export const GET_URL_PY = String.raw`
import base64, datetime, email.utils, gzip, hashlib, json, os, re, shutil, ssl, sys, tempfile, time
import urllib.error, urllib.parse, urllib.request

p = json.load(sys.stdin)
# type='path' parameters, as AnsibleModule reads them on the host
for k in ('dest', 'tmp_dest', 'client_cert', 'client_key'):
    if p.get(k):
        p[k] = os.path.expanduser(os.path.expandvars(p[k]))
url, dest, force, check = p['url'], p['dest'], p['force'], p['check']


${PY_DONE_FAIL}

def digest(path, algo):
    try:
        h = hashlib.new(algo)
    except ValueError:
        fail("Could not hash file '%s' with algorithm '%s'. Available algorithms: %s" % (path, algo, ', '.join(sorted(hashlib.algorithms_available))))
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(65536), b''):
            h.update(block)
    return h.hexdigest()


def url_filename(u):
    return os.path.basename(urllib.parse.urlsplit(u)[2]) or 'index.html'


def opener():
    handlers = []
    if not p['use_proxy']:
        handlers.append(urllib.request.ProxyHandler({}))
    ctx = ssl.create_default_context()
    if not p['validate_certs']:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if p.get('client_cert'):
        ctx.load_cert_chain(p['client_cert'], p.get('client_key'))
    if p.get('ciphers'):
        ctx.set_ciphers(':'.join(p['ciphers']))
    handlers.append(urllib.request.HTTPSHandler(context=ctx))
    user, password = p.get('url_username'), p.get('url_password')
    if user and not p['force_basic_auth']:
        mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        mgr.add_password(None, url, user, password or '')
        handlers.append(urllib.request.HTTPBasicAuthHandler(mgr))
    return urllib.request.build_opener(*handlers)


def fetch(u, last_mod_time, force, method='GET'):
    """Ansible's fetch_url: (response or None, info)."""
    info = dict(url=u, status=-1)
    parts = urllib.parse.urlsplit(u)
    user, password = p.get('url_username'), p.get('url_password')
    if parts.username and not user:
        user, password = urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or '')
        netloc = parts.hostname + (':%d' % parts.port if parts.port else '')
        u = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    req = urllib.request.Request(u, method=method)
    req.add_header('User-agent', p['http_agent'])
    if force:
        req.add_header('cache-control', 'no-cache')
    elif last_mod_time:
        req.add_header('If-Modified-Since', email.utils.formatdate(last_mod_time, usegmt=True))
    if user and (p['force_basic_auth'] or parts.username):
        token = base64.b64encode(('%s:%s' % (user, password or '')).encode()).decode()
        req.add_header('Authorization', 'Basic %s' % token)
    unredirected = [h.lower() for h in p['unredirected_headers']]
    for k, v in (p.get('headers') or {}).items():
        (req.add_unredirected_header if k.lower() in unredirected else req.add_header)(k, v)
    try:
        r = opener().open(req, None, p['timeout'])
        info.update((k.lower(), v) for k, v in r.info().items())
        info.update(msg='OK (%s bytes)' % r.headers.get('Content-Length', 'unknown'), url=r.geturl(), status=r.code)
        return r, info
    except urllib.error.HTTPError as e:
        info.update((k.lower(), v) for k, v in e.info().items())
        info.update(msg=str(e), status=e.code)
    except urllib.error.URLError as e:
        info.update(msg='Request failed: %s' % e, status=int(getattr(e, 'code', -1)))
    except OSError as e:
        info.update(msg='Connection failure: %s' % e, status=-1)
    except Exception as e:
        info.update(msg='An unknown error occurred: %s' % e, status=-1)
    return None, info


def url_get(u, last_mod_time, force, tmp_dest, method='GET'):
    start = time.time()
    rsp, info = fetch(u, last_mod_time, force, method)
    elapsed = int(time.time() - start)
    if info['status'] == 304:
        done(url=u, dest=dest, changed=False, msg=info.get('msg', ''), status_code=info['status'], elapsed=elapsed)
    if info['status'] == -1:
        fail(info['msg'], url=u, dest=dest, elapsed=elapsed)
    if info['status'] != 200 and not u.startswith('file:/') and not (u.startswith('ftp:/') and info.get('msg', '').startswith('OK')):
        fail('Request failed', status_code=info['status'], response=info['msg'], url=u, dest=dest, elapsed=elapsed)
    if tmp_dest:
        if not os.path.isdir(tmp_dest):
            fail('%s is a file but should be a directory.' % tmp_dest if os.path.exists(tmp_dest) else '%s directory does not exist.' % tmp_dest, elapsed=elapsed)
    else:
        # beside dest when it can be (the final rename is then atomic), else the system's temp dir
        tmp_dest = dest if os.path.isdir(dest) else os.path.dirname(dest)
        if not os.path.isdir(tmp_dest):
            tmp_dest = tempfile.gettempdir()
    fd, name = tempfile.mkstemp(dir=tmp_dest, prefix='.orch-get_url.')
    try:
        with os.fdopen(fd, 'wb') as f:
            src = rsp
            if p['decompress'] and rsp.headers.get('content-encoding', '').lower() == 'gzip':
                src = gzip.GzipFile(fileobj=rsp)
            shutil.copyfileobj(src, f)
    except Exception as e:
        os.remove(name)
        fail('failed to create temporary content file: %s' % e, elapsed=elapsed)
    rsp.close()
    return name, info


def sha1(path):
    return digest(path, 'sha1')


result = dict(changed=False, checksum_dest=None, checksum_src=None, dest=dest, elapsed=0, url=url)
dest_is_dir = os.path.isdir(dest)
last_mod_time = None
checksum = p['checksum']
algorithm = None

if checksum:
    try:
        algorithm, checksum = checksum.split(':', 1)
    except ValueError:
        fail('The checksum parameter has to be in format <algorithm>:<checksum>', **result)
    if urllib.parse.urlsplit(checksum).scheme in ('http', 'https', 'ftp', 'file'):
        checksum_url = checksum
        tmp, _ = url_get(checksum_url, None, force, p.get('tmp_dest'))
        with open(tmp) as f:
            lines = [line.rstrip('\n') for line in f]
        os.remove(tmp)
        checksum_map = []
        filename = url_filename(url)
        if len(lines) == 1 and len(lines[0].split()) == 1:
            checksum_map.append((lines[0], filename))
        else:
            for line in lines:
                parts = line.split(' ', 1)
                if len(parts) == 2:
                    if parts[1].startswith((' ', '*')):
                        parts[1] = parts[1][1:]
                    checksum_map.append((parts[0], parts[1].lstrip('./')))
        checksum = next((s for (s, f) in checksum_map if f == filename), None)
        if checksum is None:
            fail("Unable to find a checksum for file '%s' in '%s'" % (filename, checksum_url))
    checksum = re.sub(r'\W+', '', checksum).lower()
    try:
        int(checksum, 16)
    except ValueError:
        fail('The checksum format is invalid', **result)

if not dest_is_dir and os.path.exists(dest):
    mismatch = False
    if not force and checksum:
        mismatch = checksum != digest(dest, algorithm)
    if not force and checksum and not mismatch:
        result['_attrs'] = dest
        done(msg='file already exists', **result)
    last_mod_time = os.path.getmtime(dest)
    if mismatch:
        force = True

start = time.time()
tmpsrc, info = url_get(url, last_mod_time, force, p.get('tmp_dest'), 'HEAD' if check else 'GET')
result['elapsed'] = int(time.time() - start)
result['src'] = tmpsrc

if dest_is_dir:
    filename = None
    m = re.match('attachment; ?filename="?([^"]+)', info.get('content-disposition', ''))
    if m:
        filename = os.path.basename(m.group(1))
    dest = os.path.join(dest, filename or url_filename(info['url']))
    result['dest'] = dest

result['checksum_src'] = sha1(tmpsrc)
if os.path.exists(dest):
    if not os.access(dest, os.W_OK):
        os.remove(tmpsrc)
        fail('Destination %s is not writable' % dest, **result)
    result['checksum_dest'] = sha1(dest)
else:
    if not os.path.exists(os.path.dirname(dest)):
        os.remove(tmpsrc)
        fail('Destination %s does not exist' % os.path.dirname(dest), **result)
    if not os.access(os.path.dirname(dest), os.W_OK):
        os.remove(tmpsrc)
        fail('Destination %s is not writable' % os.path.dirname(dest), **result)

if check:
    os.remove(tmpsrc)
    result['changed'] = result['checksum_src'] != result['checksum_dest']
    done(msg=info.get('msg', ''), **result)

backup_file = None
if result['checksum_src'] != result['checksum_dest']:
    try:
        if p['backup'] and os.path.exists(dest):
            backup_file = '%s.%s.%s' % (dest, os.getpid(), time.strftime('%Y-%m-%d@%H:%M:%S~', time.localtime()))
            shutil.copy2(dest, backup_file)
        # Ansible's atomic_move: an existing file keeps its mode and owner; a new one gets 0666 & ~umask
        if os.path.exists(dest):
            st = os.stat(dest)
            os.chmod(tmpsrc, st.st_mode & 0o7777)
            os.chown(tmpsrc, st.st_uid, st.st_gid)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmpsrc, 0o666 & ~umask)
        with open(tmpsrc, 'rb') as f:
            os.fsync(f.fileno())
        shutil.move(tmpsrc, dest)
    except Exception as e:
        if os.path.exists(tmpsrc):
            os.remove(tmpsrc)
        fail('failed to copy %s to %s: %s' % (tmpsrc, dest, e), **result)
    result['changed'] = True
else:
    os.remove(tmpsrc)

if checksum:
    actual = digest(dest, algorithm)
    if checksum != actual:
        os.remove(dest)
        fail('The checksum for %s did not match %s; it was %s.' % (dest, checksum, actual), **result)

result['_attrs'] = dest
result['md5sum'] = digest(dest, 'md5')
if backup_file:
    result['backup_file'] = backup_file
done(msg=info.get('msg', ''), status_code=info.get('status', ''), **result)
`;
