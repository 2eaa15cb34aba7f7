// The helloworld example as a typed descriptor: `defineTasks` gives completion and type errors
// in an editor; wazo-tasks validates the value with the same schema as tasks.yml.
import { defineTasks } from "wazo-tasks";

export default defineTasks({
  install: [
    { copy: "helloworld.conf", to: "/etc/asterisk/extensions_extra.d/helloworld-ts.conf", mode: "0644" },
    { reload: "dialplan" },
    { verify: { extension: "***43", context: "xivo-extrafeatures" } },
  ],
});
