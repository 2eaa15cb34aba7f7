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
        plugin's name, checked before anything changes) or a folder of plugin folders, where I(name)
        is looked up first (C(--plugins-dir)).
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
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  action_group:
    description: Use C(group/wazo.tasks.wazo) in C(module_defaults) to set the AMI settings once for both modules.
    support: full
    membership:
      - wazo.tasks.wazo
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
  - Credentials in a URL of I(source), I(name) or I(market_url) (C(https://user:token@host/...)) are masked in the
    task's results, as C(no_log) options are.
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
reason:
  description:
    - Why wazo-tasks failed, from its summary's failure object (C(invalid-input), C(conflict), C(admin-edit), C(ami-auth),
      C(ami-unreachable), C(reload-failed), C(dialplan-lost), C(git-failed), C(lock-held), ...; docs/json-output.md).
    - Decide from it in C(failed_when) or C(until), not from I(msg).
  returned: when wazo-tasks failed
  type: str
  sample: ami-auth
failure:
  description: The failure object of wazo-tasks' summary, with reason, message, hint, diagnostics and the facts that apply.
  returned: when wazo-tasks failed
  type: dict
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.wazo.tasks.plugins.module_utils.plugin_task import PluginTask
from ansible_collections.wazo.tasks.plugins.module_utils.wazo_tasks import COMMON_MUTUALLY_EXCLUSIVE, common_argument_spec


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
