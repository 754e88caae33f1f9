// Runs TrackHAR (npm "trackhar") over HAR files and prints one JSON line per
// finding: {file, entry, adapter, property, context, path, value}, value as
// text the way TrackHAR's own code turns values into text.
//
// Usage: node trackhar.mjs NODE_MODULES_DIR [--indicators FILE.json] [--bench] HAR...
// With --bench it prints only timing: {"entries": N, "parseMs": ..., "processMs": ...}.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const nm = args.shift();
let indicatorValues;
let bench = false;
const files = [];
while (args.length) {
    const a = args.shift();
    if (a === '--indicators') indicatorValues = JSON.parse(fs.readFileSync(args.shift(), 'utf8'));
    else if (a === '--bench') bench = true;
    else files.push(a);
}
const th = await import(pathToFileURL(path.join(nm, 'trackhar', 'dist', 'index.js')).href);

const stringify = (v) =>
    typeof v === 'bigint' || typeof v === 'string' || typeof v === 'symbol' || typeof v === 'function'
        ? v.toString()
        : JSON.stringify(v);

if (bench) {
    const file = files[0];
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const har = JSON.parse(fs.readFileSync(file, 'utf8'));
    const t1 = process.hrtime.bigint();
    const c1 = process.cpuUsage();
    const res = await th.process(har);
    const t2 = process.hrtime.bigint();
    const c2 = process.cpuUsage();
    const cpu = (a, b) => (b.user - a.user + b.system - a.system) / 1e3;
    const found = res.filter((r) => r && r.length).length;
    console.log(JSON.stringify({
        entries: har.log.entries.length,
        entriesWithFindings: found,
        parseMs: Number(t1 - t0) / 1e6,
        processMs: Number(t2 - t1) / 1e6,
        parseCpuMs: cpu(c0, c1),
        processCpuMs: cpu(c1, c2),
    }));
    process.exit(0);
}

const out = [];
for (const file of files) {
    const har = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
    const entries = har.log.entries || [];
    for (let i = 0; i < entries.length; i++) {
        let req;
        try {
            [req] = th.unhar({ log: { entries: [entries[i]] } });
        } catch (e) {
            continue; // TrackHAR cannot read this entry (e.g. URL); it would abort the whole file
        }
        let res;
        try {
            res = await th.processRequest(req, indicatorValues ? { indicatorValues } : undefined);
        } catch (e) {
            out.push(JSON.stringify({ file, entry: i, error: String(e) }));
            continue;
        }
        for (const f of res || []) {
            out.push(JSON.stringify({
                file, entry: i, adapter: f.adapter, property: f.property, context: f.context,
                path: f.path, value: stringify(f.value),
            }));
        }
    }
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
