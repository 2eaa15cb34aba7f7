# -*- coding: utf-8 -*-
# Copyright: wazo-tasks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What wazo.tasks.plugin does: its options turned into one wazo-tasks command, and the result."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re

from ansible_collections.wazo.tasks.plugins.module_utils.wazo_tasks import EXIT_RELOAD_FAILED, WazoTasks

GIT_URL = re.compile(r'^(git\+)?((https?|ssh|git|file)://|[\w.-]+@[\w.-]+:)')
VERBS = {'create': 'create', 'update': 'update', 'mode': 'change the mode of', 'remove': 'remove'}


def source_kind(source):
    if source is None:
        return 'names'
    if source == 'market':
        return 'market'
    if GIT_URL.match(source):
        return 'git'
    return 'folder'


def is_plugin_folder(folder):
    return os.path.isfile(os.path.join(folder, 'package.yml')) or os.path.isfile(os.path.join(folder, 'wazo', 'plugin.yml'))


def installed_name(arg):
    """The name an argument installs under: NAMESPACE/NAME@VERSION -> NAME."""
    return arg.split('@', 1)[0].rsplit('/', 1)[-1]


def diff_entries(run):
    """One Ansible diff entry per file (not folder) of the dry run's step events."""
    entries = []
    for step in run.of_type('step'):
        for f in step.get('files') or []:
            if f.get('op') == 'mkdir':
                continue  # the files created in it say it
            text = f.get('diff') or '%s %s' % (VERBS.get(f.get('change'), f.get('change')), f.get('path'))
            entries.append(dict(prepared=text if text.endswith('\n') else text + '\n'))
    return entries


USERINFO = re.compile(r'^(?:git\+)?[a-z][a-z0-9+.-]*://([^/@]+)@')


def url_secrets(arg):
    """Credentials in a URL (https://user:token@host/...): the token, or a long user that is a token."""
    m = USERINFO.match(arg or '')
    if not m:
        return []
    user, _, password = m.group(1).partition(':')
    return [password] if password else ([user] if len(user) >= 16 else [])


class PluginTask(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.names = self.p['name'] or []
        # Masked in every result, as no_log options are: the command, messages, the plan.
        for arg in [self.p['source'], self.p['market_url']] + self.names:
            module.no_log_values.update(url_secrets(arg))
        self.wt = WazoTasks(module)
        self.kind = source_kind(self.p['source'])

    def check_arguments(self):
        p = self.p
        if not self.names and p['state'] != 'latest':
            self.module.fail_json(msg='name is required unless state is latest')
        if (p['ref'] or p['subdirectory']) and self.kind != 'git':
            self.module.fail_json(msg='ref and subdirectory need a git URL in source')
        if self.kind == 'git' and len(self.names) != 1:
            self.module.fail_json(msg='a git source holds one plugin: give its name alone in name (got %d)' % len(self.names))
        if self.kind == 'folder' and p['state'] != 'absent':
            if not os.path.isabs(p['source']) or not os.path.isdir(p['source']):
                self.module.fail_json(msg='source %s is not an absolute path of a folder on this host' % p['source'])

    def install_args(self):
        p = self.p
        args = []
        if self.kind == 'git':
            args = [p['source']]
            if p['ref']:
                args += ['--ref', p['ref']]
            if p['subdirectory']:
                args += ['--subdirectory', p['subdirectory']]
        elif self.kind == 'folder' and is_plugin_folder(p['source']):
            self.check_folder_name()
            args = [p['source']]
        elif self.kind == 'folder':
            args = ['--plugins-dir', p['source']] + self.names
        else:
            args = list(self.names)
        for option, flag in (('force', '--force'), ('reinstall', '--reinstall')):
            if p[option]:
                args.append(flag)
        return args + self.shared_args()

    def shared_args(self):
        p = self.p
        args = []
        if p['wazo_version']:
            args += ['--wazo-version', p['wazo_version']]
        if p['market_url']:
            args += ['--market', p['market_url']]
        if not p['reload']:
            args.append('--no-reload')
        return args

    def check_folder_name(self):
        run = self.wt.run('validate', [self.p['source']], with_lock=False)
        found = run.last('validate')
        if found is None or not found.get('ok'):
            self.wt.fail(run, 'the plugin in %s is invalid: ' % self.p['source'])
        if len(self.names) != 1 or found.get('name') != self.names[0]:
            self.module.fail_json(msg='source %s holds the plugin %s, but name says %s' % (self.p['source'], found.get('name'), ', '.join(self.names)))

    def command(self):
        """(wazo-tasks command, its arguments), or None when there is nothing to do."""
        state = self.p['state']
        if state == 'present':
            return 'install', self.install_args()
        installed = self.wt.installed()
        known = set(e.get('name') for e in installed) | set('%s/%s' % (e['namespace'], e['name']) for e in installed if e.get('namespace'))
        # As installed: NAMESPACE/NAME@VERSION or a URL stands for NAME unless installed under that very name.
        as_installed = dict((n, n if n in known else installed_name(n)) for n in self.names)
        present = [n for n in self.names if as_installed[n] in known]
        if state == 'absent':
            self.skipped = [n for n in self.names if n not in present]
            if not present:
                return None
            return 'uninstall', [as_installed[n] for n in present] + (['--force'] if self.p['force'] else []) + ([] if self.p['reload'] else ['--no-reload'])
        if len(present) == len(self.names):
            return 'upgrade', [as_installed[n] for n in self.names] + self.shared_args()
        return 'install', self.install_args()

    def execute(self):
        self.check_arguments()
        self.skipped = None
        planned = self.command()
        result = dict(changed=False, reload_pending=False)
        if self.skipped is not None:
            result['skipped_names'] = self.skipped
        if planned is None:
            self.module.exit_json(msg='none of the plugins is installed', **result)
        command, args = planned
        check, want_diff = self.module.check_mode, self.module._diff
        if want_diff and not check:
            preview = self.wt.run(command, args, dry_run=True)
            diffs = diff_entries(preview) if preview.rc == 0 else []
        run = self.wt.run(command, args, dry_run=check)
        if want_diff and check:
            diffs = diff_entries(run)
        result.update(rc=run.rc, cmd=run.cmd, plan=run.plan, summary=run.summary, diagnostics=run.diagnostics,
                      plugins=(run.summary or {}).get('plugins', []))
        for warning in run.warnings:
            self.module.warn(warning)
        if run.rc == EXIT_RELOAD_FAILED:
            self.reload_failed(run, result)
        if run.rc != 0:
            self.wt.fail(run, **dict((k, v) for k, v in result.items() if k not in ('rc', 'cmd', 'plan', 'summary', 'diagnostics')))
        result['changed'] = run.changed()
        if want_diff and result['changed']:
            result['diff'] = diffs
        self.module.exit_json(**result)

    def reload_failed(self, run, result):
        statuses = [p.get('status') for p in result['plugins']]
        rolled_back = bool(statuses) and all(s == 'rolled back' for s in statuses)
        where = self.p['root'] or '/'
        if rolled_back:
            msg = ('wazo-tasks rolled the run back on %s after the dialplan reload lost installed extensions, and reloaded '
                   'the dialplan again; nothing of this run is left: %s' % (where, run.error()))
        else:
            msg = ('wazo-tasks applied the files on %s, but a reload or the dialplan check failed, so the reload is pending: %s. '
                   'Fix Asterisk, then run wazo.tasks.reload with pending: true (wazo-tasks reload --pending)' % (where, run.error()))
        failure = run.failure or {}
        result.update(changed=not rolled_back, reload_pending=not rolled_back, reason=failure.get('reason'), failure=run.failure)
        self.module.fail_json(msg=msg, **result)
