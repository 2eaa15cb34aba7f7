# -*- coding: utf-8 -*-
# Copyright: wazo-tasks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running wazo-tasks with --json on the managed host and reading its NDJSON events.

The AMI secret travels in the child's environment (WAZO_TASKS_AMI_URL) only: argv is readable
by every user of the host, and Ansible logs module arguments that are not no_log.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os

from urllib.parse import quote

# Exit codes of wazo-tasks (docs/cli.md).
EXIT_RELOAD_FAILED = 3
EXIT_LOCK_HELD = 75


def common_argument_spec():
    """Options every module of the collection takes (doc fragment wazo.tasks.common)."""
    return dict(
        root=dict(type='path'),
        executable=dict(type='str', default='wazo-tasks'),
        lock_timeout=dict(type='int'),
        ami_url=dict(type='str', no_log=True),
        ami_host=dict(type='str'),
        ami_port=dict(type='int'),
        ami_user=dict(type='str'),
        ami_secret=dict(type='str', no_log=True),
    )


COMMON_MUTUALLY_EXCLUSIVE = [('ami_url', 'ami_host'), ('ami_url', 'ami_port'), ('ami_url', 'ami_user'), ('ami_url', 'ami_secret')]


class Run(object):
    """One wazo-tasks run: its exit code and what its JSON events said."""

    def __init__(self, cmd, rc, stdout, stderr):
        self.cmd = cmd
        self.rc = rc
        self.stderr = stderr
        self.events = []
        self.unparsed = []
        for line in stdout.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                self.unparsed.append(line)
                continue
            if isinstance(event, dict):
                self.events.append(event)

    def of_type(self, kind):
        return [e for e in self.events if e.get('type') == kind]

    def last(self, kind):
        found = self.of_type(kind)
        return strip(found[-1]) if found else None

    @property
    def summary(self):
        return self.last('summary')

    @property
    def plan(self):
        return self.last('plan')

    @property
    def failure(self):
        """The summary's failure object: reason, message, hint, diagnostics... (docs/json-output.md)."""
        failure = (self.summary or {}).get('failure')
        return failure if isinstance(failure, dict) else None

    @property
    def diagnostics(self):
        found = [e['diagnostic'] for e in self.of_type('diagnostic') if isinstance(e.get('diagnostic'), dict)]
        return found or list((self.failure or {}).get('diagnostics') or [])

    @property
    def warnings(self):
        return [(e.get('plugin') + ': ' if e.get('plugin') else '') + e.get('message', '') for e in self.of_type('warning')]

    def changed(self):
        s = self.summary or {}
        return bool(s.get('changed') or s.get('reloads') or s.get('restarts'))

    def failures(self):
        """What failed, from the events: steps, reloads and restarts, verifications, the dialplan check."""
        out = []
        for e in self.events:
            kind = e.get('type')
            if kind in ('step', 'handler', 'verify') and e.get('status') == 'failed':
                what = e.get('target') or e.get('name') or '%s@%s' % (e.get('extension'), e.get('context'))
                label = '%s %s' % (e.get('kind', 'verify'), what)
                why = ' '.join(str(e.get('detail') or e.get('message') or '').split())
                out.append(why if why.startswith(label) else '%s: %s' % (label, why) if why else label)
            elif kind == 'dialplan-check' and e.get('status') != 'ok':
                for m in e.get('missing') or []:
                    out.append('%s@%s of %s (%s) is %s after the reload%s' % (
                        m.get('extension'), m.get('context'), m.get('plugin'), m.get('file'),
                        'not loaded' if m.get('expect') == 'present' else 'still loaded',
                        '; probably broken by %s' % m['cause'] if m.get('cause') else ''))
        return out

    def error(self):
        """wazo-tasks' own message, with each diagnostic's place (file:line:col) and what failed."""
        s = self.summary or {}
        failure = self.failure or {}
        text = failure.get('message') and failure['message'] + (' (hint: %s)' % failure['hint'] if failure.get('hint') else '')
        said = ' '.join(str(text or s.get('error') or '').split())
        places = '; '.join([format_diagnostic(d) for d in self.diagnostics if d.get('severity', 'error') == 'error']
                           + [f for f in self.failures() if f not in said])
        if text or s.get('error'):
            head = ' '.join(str(text or s['error']).split())
            return '%s: %s' % (head, places) if places else head
        if places:
            return places
        tail = [line for line in (self.unparsed + self.stderr.splitlines()) if line.strip()]
        return tail[-1].strip() if tail else 'wazo-tasks exited with code %s and said nothing' % self.rc


def strip(event):
    return dict((k, v) for k, v in event.items() if k not in ('v', 'type'))


def format_diagnostic(d):
    place = d.get('file', '')
    if d.get('line'):
        place += ':%s' % d['line']
        if d.get('col'):
            place += ':%s' % d['col']
    text = '%s: %s' % (place, d.get('message', '')) if place else d.get('message', '')
    if d.get('hint'):
        text += ' (hint: %s)' % d['hint']
    return text


class WazoTasks(object):
    """The wazo-tasks program of the managed host, with the module's root and AMI settings."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.binary = self._find_binary(self.params['executable'])

    def _find_binary(self, executable):
        if '/' in executable:
            if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
                self.module.fail_json(msg='executable %s is not an executable file on this host' % executable)
            return executable
        found = self.module.get_bin_path(executable, opt_dirs=['/usr/local/bin'])
        if not found:
            self.module.fail_json(msg='%s was not found on the PATH of this host; install wazo-tasks (Node 20: npm install -g wazo-tasks) '
                                      'or set executable to its path' % executable)
        return found

    def _ami(self):
        """(extra argv, extra environment) for the AMI options; the secret only in the environment."""
        p = self.params
        if p.get('ami_url'):
            return [], {'WAZO_TASKS_AMI_URL': p['ami_url']}
        if p.get('ami_secret') is not None:
            if not p.get('ami_user'):
                self.module.fail_json(msg='ami_secret needs ami_user (or give ami_url)')
            host = p.get('ami_host') or '127.0.0.1'
            if ':' in host and not host.startswith('['):
                host = '[%s]' % host
            url = 'ami://%s:%s@%s:%s' % (quote(p['ami_user'], safe=''), quote(p['ami_secret'], safe=''), host, p.get('ami_port') or 5038)
            return [], {'WAZO_TASKS_AMI_URL': url}
        argv = []
        for option, flag in (('ami_host', '--ami-host'), ('ami_port', '--ami-port'), ('ami_user', '--ami-user')):
            if p.get(option) is not None:
                argv += [flag, str(p[option])]
        return argv, {}

    def run(self, command, args, dry_run=False, with_lock=True):
        """Runs `wazo-tasks COMMAND ARGS --json` and returns its Run."""
        argv = [self.binary, command] + list(args)
        if self.params.get('root'):
            argv += ['--root', self.params['root']]
        if dry_run:
            argv.append('--dry-run')
        if with_lock and self.params.get('lock_timeout') is not None:
            argv += ['--lock-timeout', str(self.params['lock_timeout'])]
        ami_argv, env = ([], {}) if command == 'list' else self._ami()
        argv += ami_argv + ['--json']
        env['NO_COLOR'] = '1'
        rc, out, err = self.module.run_command(argv, environ_update=env)
        return Run(argv, rc, out, err)

    def installed(self):
        """The plugins installed on the root (list --installed), as the manifests record them."""
        run = self.run('list', ['--installed'], with_lock=False)
        listed = run.last('list')
        if run.rc != 0 or listed is None:
            self.fail(run, 'cannot list the installed plugins: ')
        return listed.get('plugins', [])

    def fail(self, run, prefix='', **extra):
        failure = run.failure or {}
        result = dict(msg=prefix + run.error(), rc=run.rc, cmd=run.cmd, summary=run.summary, plan=run.plan,
                      diagnostics=run.diagnostics, stderr=run.stderr, reason=failure.get('reason'), failure=run.failure)
        if run.rc == EXIT_LOCK_HELD or failure.get('reason') == 'lock-held':
            result['msg'] = 'another wazo-tasks run holds the lock of the root (exit 75, retry later): ' + result['msg']
        result.update(extra)
        self.module.fail_json(**result)
