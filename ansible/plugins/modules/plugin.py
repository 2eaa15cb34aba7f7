#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: wazo-tasks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: plugin
short_description: Install, upgrade or remove Wazo PBX plugins with wazo-tasks
version_added: 0.1.0
description:
  - Runs C(wazo-tasks install), C(upgrade) or C(uninstall) with C(--json) on the managed host and
    reads its events.
  - All plugins of one task are one wazo-tasks run, one transaction (rolled back on the host when a
    step fails) and one Asterisk reload, followed by the check that the dialplan really loaded.
  - Installing again what is installed changes nothing and reloads nothing, so the task is
    idempotent.
  - Check mode is wazo-tasks' dry run (C(--dry-run)), which writes nothing and connects to nothing.
    Diff mode returns the dry run's unified diffs, one entry per file.
options:
  name:
    description:
      - The plugins, as one name or a list. A list is one wazo-tasks run.
      - Without I(source), each is given to wazo-tasks as it is, a plugin name (looked up by
        wazo-tasks), a folder on the host, a git URL or C(NAMESPACE/NAME[@VERSION]) of the market.
      - With I(state=absent) or I(state=latest), the names of installed plugins. I(state=latest) may
        leave it out to upgrade every plugin installed from git or the market.
    type: list
    elements: str
    aliases: [names]
  state:
    description:
      - C(present) installs (C(wazo-tasks install)). From a folder, the installed files follow the
        folder; from git, the commit I(ref) names (a branch is followed, a tag or commit stays put);
        from the market, the newest version for this Wazo, or the one C(@VERSION) names.
      - C(latest) upgrades plugins installed from git or the market (C(wazo-tasks upgrade)), fetching
        their source again; when one of them is not installed yet, it installs from I(source) instead.
      - C(absent) uninstalls the plugins of I(name) that are installed; the others are ignored.
    type: str
    choices: [present, absent, latest]
    default: present
  source:
    description:
      - Where the plugins come from.
      - An absolute folder on the managed host, either a plugin folder itself (then I(name) is that
        plugin's name, checked before anything changes) or a folder of plugin folders (C(--plugins-dir)).
      - A git URL (C(https://), C(ssh://), C(git://), C(file://), C(git@host:path), with or without
        C(git+)) for one plugin, with I(ref) and I(subdirectory); I(name) is the plugin's name.
      - C(market) for the Wazo market, I(name) then being C(NAMESPACE/NAME[@VERSION]).
      - Ignored by I(state=absent).
    type: str
  ref:
    description:
      - Branch, tag or commit of a git I(source) (C(--ref)). Default, the remote's default branch.
    type: str
  subdirectory:
    description:
      - Where the plugin sits in the git repository of I(source) (C(--subdirectory)).
    type: str
  market_url:
    description:
      - Address of the market (C(--market)), for example a C(file://) URL of a market answer.
        Default, what wazo-tasks is configured with.
    type: str
  force:
    description:
      - Replace files that exist but belong to no plugin, and files an admin changed since install
        (C(--force)); on I(state=absent), also remove files an admin changed.
    type: bool
    default: false
  reinstall:
    description:
      - Run every step again even when the same source at the same commit is installed
        (C(--reinstall)).
    type: bool
    default: false
  wazo_version:
    description:
      - The Wazo version that plugins' C(min_wazo_version) and C(max_wazo_version) are checked
        against (C(--wazo-version)). Default, what the host says.
    type: str
  reload:
    description:
      - Whether to reload Asterisk after the files are in place. With C(false) (C(--no-reload)),
        the reloads are recorded as pending, for M(wazo.tasks.reload) with I(pending=true).
    type: bool
    default: true
extends_documentation_fragment:
  - wazo.tasks.common
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: C(wazo-tasks --dry-run); a git or market source is still fetched, which changes nothing on the root.
  diff_mode:
    support: full
    details: One entry per file, from the dry run; outside check mode a dry run comes first for the diffs.
  platform:
    platforms: posix
notes:
  - The task fails with wazo-tasks' message and exit code (C(rc)). Exit 2 is invalid input and exit 1
    a failure at run time, both with nothing changed on the host. Exit 3 means the files were applied but
    a reload or the dialplan check failed; the result then says C(reload_pending=true), and
    M(wazo.tasks.reload) with I(pending=true) finishes the work once Asterisk is fixed.
  - Hosts are independent; use C(serial) to roll out a few PBXs at a time, and
    C(max_fail_percentage) to stop a rollout that fails.
requirements:
  - wazo-tasks on the managed host (Node 20)
seealso:
  - module: wazo.tasks.reload
author:
  - wazo-tasks maintainers (@wazo-tasks)
'''

EXAMPLES = r'''
- name: Install two plugins from a folder on the PBX, one transaction and one reload
  wazo.tasks.plugin:
    name: [helloworld, sounds]
    source: /srv/wazo-plugins
    ami_user: wazo-tasks
    ami_secret: "{{ vault_ami_secret }}"

- name: Install a plugin from git, a tag
  wazo.tasks.plugin:
    name: acme-queues
    source: https://git.example.com/acme/wazo-acme-queues.git
    ref: v1.2.0

- name: Follow the branches and market versions of everything installed from git or the market
  wazo.tasks.plugin:
    state: latest

- name: From the market, a given version
  wazo.tasks.plugin:
    name: acme/queues@1.2.0
    source: market

- name: Remove a plugin (nothing happens when it is not installed)
  wazo.tasks.plugin:
    name: helloworld
    state: absent

- name: Put the files in place now and reload later, once for several tasks
  wazo.tasks.plugin:
    name: helloworld
    reload: false
'''

RETURN = r'''
changed:
  description: Whether wazo-tasks changed something (or would, in check mode), from its summary.
  returned: always
  type: bool
rc:
  description: wazo-tasks' exit code (0 ok, 1 run-time failure, 2 invalid input, 3 reload failed, 75 lock held).
  returned: when wazo-tasks ran
  type: int
  sample: 0
cmd:
  description: The command run (it never holds the AMI secret).
  returned: when wazo-tasks ran
  type: list
  elements: str
plan:
  description: The plan event of wazo-tasks, what the run does for each plugin and the handlers it runs.
  returned: when wazo-tasks planned a run
  type: dict
  sample:
    command: install
    plugins:
      - name: helloworld
        version: 0.0.1
        action: install
        changed: true
        steps: [{kind: copy, target: /etc/asterisk/extensions_extra.d/helloworld.conf, changes: 1, notSimulated: false}]
    handlers: [dialplan]
summary:
  description: The summary event of wazo-tasks (docs/json-output.md).
  returned: when wazo-tasks ran
  type: dict
  sample:
    ok: true
    exitCode: 0
    dryRun: false
    changed: 1
    unchanged: 0
    failed: 0
    reloads: [dialplan]
    restarts: []
    plugins: [{name: helloworld, version: 0.0.1, action: install, status: changed}]
plugins:
  description: For each plugin of the run, its name, version, action and status.
  returned: when wazo-tasks ran
  type: list
  elements: dict
diagnostics:
  description: Problems wazo-tasks found, each with file, line, col, message and hint.
  returned: when wazo-tasks ran
  type: list
  elements: dict
reload_pending:
  description: True when the files were applied but a reload or the dialplan check failed (exit 3).
  returned: always
  type: bool
skipped_names:
  description: With I(state=absent), the names of I(name) that were not installed.
  returned: when state is absent
  type: list
  elements: str
'''

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.wazo.tasks.plugins.module_utils.wazo_tasks import (
    COMMON_MUTUALLY_EXCLUSIVE, EXIT_RELOAD_FAILED, WazoTasks, common_argument_spec)

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


class PluginTask(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.wt = WazoTasks(module)
        self.kind = source_kind(self.p['source'])
        self.names = self.p['name'] or []

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
        if state == 'absent':
            wanted = [n for n in self.names if n in known or installed_name(n) in known]
            self.skipped = [n for n in self.names if n not in wanted]
            return ('uninstall', [installed_name(n) if n not in known else n for n in wanted] + (['--force'] if self.p['force'] else [])
                    + ([] if self.p['reload'] else ['--no-reload'])) if wanted else None
        if all(n in known or installed_name(n) in known for n in self.names):
            return 'upgrade', [installed_name(n) if n not in known else n for n in self.names] + self.shared_args()
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
        result.update(changed=not rolled_back, reload_pending=not rolled_back)
        self.module.fail_json(msg=msg, **result)


def main():
    argument_spec = common_argument_spec()
    argument_spec.update(
        name=dict(type='list', elements='str', aliases=['names']),
        state=dict(type='str', choices=['present', 'absent', 'latest'], default='present'),
        source=dict(type='str'),
        ref=dict(type='str'),
        subdirectory=dict(type='str'),
        market_url=dict(type='str'),
        force=dict(type='bool', default=False),
        reinstall=dict(type='bool', default=False),
        wazo_version=dict(type='str'),
        reload=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, mutually_exclusive=COMMON_MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    PluginTask(module).execute()


if __name__ == '__main__':
    main()
