# -*- coding: utf-8 -*-
# Copyright: wazo-tasks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # The options every wazo.tasks module shares: where wazo-tasks is, which root, and AMI.
    DOCUMENTATION = r'''
options:
  root:
    description:
      - The root wazo-tasks works on (C(--root)). Every absolute path of the plugins is taken
        under it, and its state, lock and journal live in I(root)C(/var/lib/wazo-tasks/).
      - Leave it unset on a PBX; set it for a staging root.
    type: path
  executable:
    description:
      - The C(wazo-tasks) program on the managed host, as a path or a name looked up on C(PATH).
    type: str
    default: wazo-tasks
  lock_timeout:
    description:
      - Seconds to wait for another wazo-tasks run on the same root (C(--lock-timeout)). When it
        runs out the task fails with C(rc=75), and C(retries)/C(until) can try again.
    type: int
  ami_url:
    description:
      - AMI settings as C(ami://USER:SECRET@HOST:PORT), special characters percent-encoded.
      - Given to wazo-tasks in its environment (C(WAZO_TASKS_AMI_URL)), never on its command line.
      - Without any C(ami_*) option, wazo-tasks takes its settings from the environment of the
        task or from I(root)C(/etc/wazo-tasks/config.yml), as on the command line.
    type: str
  ami_host:
    description:
      - Host of the Asterisk Manager Interface. With I(ami_user) and I(ami_secret) the default is
        C(127.0.0.1); alone, it only replaces the host of the configuration file.
    type: str
  ami_port:
    description:
      - Port of the Asterisk Manager Interface (C(5038) by default).
    type: int
  ami_user:
    description:
      - AMI user, as in C(/etc/asterisk/manager.d/). Needs I(ami_secret), unless the configuration
        file holds the secret.
    type: str
  ami_secret:
    description:
      - Secret of I(ami_user). It is never logged, never printed, and reaches wazo-tasks in its
        environment only.
    type: str
'''
