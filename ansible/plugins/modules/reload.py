#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: wazo-tasks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: reload
short_description: Reload Asterisk through wazo-tasks, or run the reloads left pending
version_added: 0.1.0
description:
  - Runs C(wazo-tasks reload) with C(--json) on the managed host. It reloads the dialplan (or the
    modules named), then, through AMI, checks that every installed plugin's extensions are loaded.
  - With I(pending=true) it runs instead the reloads and restarts that earlier runs recorded as
    pending (M(wazo.tasks.plugin) with I(reload=false), or a failed reload), each once, and clears
    them. With nothing pending, nothing runs and the task is not changed.
options:
  pending:
    description:
      - Run the pending reloads and restarts (C(--pending)) instead of I(modules).
    type: bool
    default: false
  modules:
    description:
      - What to reload, C(dialplan) (the default) or module names such as C(res_pjsip.so).
    type: list
    elements: str
    default: []
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
    details: Nothing runs. With I(pending=true) the result lists what is pending, else it reports what would be reloaded.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - A reload Asterisk refuses, or a dialplan check that finds extensions missing, fails the task with
    wazo-tasks' message and C(reason); with I(pending=true) the result says C(reload_pending=true), what
    was pending staying pending.
  - It needs a way to reach Asterisk (AMI settings, or C(asterisk) on the host's C(PATH)), even with I(root).
requirements:
  - wazo-tasks on the managed host (Node 20)
seealso:
  - module: wazo.tasks.plugin
author:
  - wazo-tasks maintainers (@wazo-tasks)
'''

EXAMPLES = r'''
- name: Run what earlier tasks left pending (plugin with reload false)
  wazo.tasks.reload:
    pending: true
    ami_user: wazo-tasks
    ami_secret: "{{ vault_ami_secret }}"

- name: Reload PJSIP
  wazo.tasks.reload:
    modules: [res_pjsip.so]
'''

RETURN = r'''
changed:
  description: Whether a reload or restart ran (or would run, in check mode).
  returned: always
  type: bool
rc:
  description: wazo-tasks' exit code (0 ok, 1 a reload or the dialplan check failed, 2 invalid input, 75 lock held).
  returned: when wazo-tasks ran
  type: int
cmd:
  description: The command run (it never holds the AMI secret).
  returned: when wazo-tasks ran
  type: list
  elements: str
reloads:
  description: The modules reloaded.
  returned: always
  type: list
  elements: str
  sample: [dialplan]
restarts:
  description: The units restarted.
  returned: always
  type: list
  elements: str
pending:
  description: In check mode with I(pending=true), the handlers pending, per plugin.
  returned: in check mode with pending
  type: dict
  sample: {helloworld: [dialplan]}
dialplan_check:
  description: The dialplan check after the reload, with checked (how many extensions) and missing.
  returned: when a dialplan reload ran through AMI
  type: dict
summary:
  description: The summary event of wazo-tasks.
  returned: when wazo-tasks ran
  type: dict
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
  description: With I(pending=true), true when a pending reload failed again and stays pending.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.wazo.tasks.plugins.module_utils.wazo_tasks import (
    COMMON_MUTUALLY_EXCLUSIVE, EXIT_RELOAD_FAILED, WazoTasks, common_argument_spec)

# Failures after which what was pending stays pending.
STILL_PENDING = ('reload-failed', 'dialplan-lost', 'verify-failed', 'ami-unreachable', 'ami-timeout', 'ami-auth', 'ami-permission')


def check_mode(module, wt):
    if not module.params['pending']:
        what = module.params['modules'] or ['dialplan']
        module.exit_json(changed=True, reloads=[], restarts=[], reload_pending=False, msg='would reload %s' % ', '.join(what))
    pending = dict((p['name'], p.get('reloadPending') or []) for p in wt.installed() if p.get('reloadPending'))
    module.exit_json(changed=bool(pending), pending=pending, reloads=[], restarts=[], reload_pending=bool(pending))


def main():
    argument_spec = common_argument_spec()
    argument_spec.update(
        pending=dict(type='bool', default=False),
        modules=dict(type='list', elements='str', default=[]),
    )
    module = AnsibleModule(argument_spec=argument_spec, mutually_exclusive=COMMON_MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    if module.params['pending'] and module.params['modules']:
        module.fail_json(msg='pending and modules cannot be used together: pending runs what earlier runs recorded')
    wt = WazoTasks(module)
    if module.check_mode:
        check_mode(module, wt)
    args = ['--pending'] if module.params['pending'] else list(module.params['modules'])
    run = wt.run('reload', args)
    summary = run.summary or {}
    pending = module.params['pending'] and (run.rc == EXIT_RELOAD_FAILED or (run.failure or {}).get('reason') in STILL_PENDING)
    result = dict(reloads=summary.get('reloads', []), restarts=summary.get('restarts', []), dialplan_check=run.last('dialplan-check'),
                  reload_pending=pending, changed=run.changed())
    if pending:
        wt.fail(run, 'a pending reload failed again and stays pending (fix Asterisk, then run this task again): ', **result)
    if run.rc != 0:
        wt.fail(run, **result)
    module.exit_json(rc=run.rc, cmd=run.cmd, summary=summary, **result)


if __name__ == '__main__':
    main()
