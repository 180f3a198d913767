import { readFileSync, readdirSync } from 'node:fs';
import { summarizeProfile } from '/work/wt-perf/scripts/profile-score';
const f = readdirSync('/tmp/prof')[0];
const p = JSON.parse(readFileSync('/tmp/prof/' + f, 'utf8'));
const { categories, functions, totalMs } = summarizeProfile(p);
console.log([...categories].sort((a,b)=>b[1]-a[1]).map(([k,v])=>`${k} ${(100*v/totalMs).toFixed(1)}%`).join('\n'));
console.log([...functions].sort((a,b)=>b[1]-a[1]).slice(0,30).map(([k,v])=>`${k.slice(0,110)} ${(100*v/totalMs).toFixed(1)}%`).join('\n'));
