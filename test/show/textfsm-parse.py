# Parses show output with the ntc-templates TextFSM templates, choosing each template through
# the templates' index as Netmiko's clitable does (Platform cisco_ios, Command as typed).
# stdin: {"templates": DIR, "items": [{"command": "...", "text": "..."}]}
# stdout: [{"command", "template", "rows": [{FIELD: value}], "error"}]
import json
import sys

from textfsm import clitable


def main():
    req = json.load(sys.stdin)
    cli = clitable.CliTable('index', req['templates'])
    out = []
    for item in req['items']:
        attrs = {'Command': item['command'], 'Platform': 'cisco_ios'}
        res = {'command': item['command'], 'template': None, 'rows': [], 'error': None}
        try:
            row = cli.index.GetRowMatch(attrs)
            if row:
                res['template'] = cli.index.index[row]['Template']
            cli.ParseCmd(item['text'], attributes=attrs)
            header = list(cli.header)
            res['rows'] = [dict(zip(header, list(r))) for r in cli]
        except Exception as e:  # a template that rejects the text: report, do not stop
            res['error'] = '%s: %s' % (type(e).__name__, e)
        out.append(res)
    json.dump(out, sys.stdout)


main()
