// Scanner and attack-tool user agents, found with one case-insensitive
// multi-pattern pass over the User-Agent value. Generic HTTP clients (curl,
// python-requests, Go-http-client) are not listed: legitimate scripts use them.
import { MultiSearch } from "../sdk/lib";

const TOOLS: string[] = [
  "sqlmap", "nikto", "nmap scripting engine", "nmap nse", "masscan", "zgrab", "nuclei", "wpscan", "dirbuster", "gobuster",
  "feroxbuster", "ffuf", "wfuzz", "acunetix", "netsparker", "w3af", "openvas", "nessus", "arachni", "skipfish", "whatweb",
  "zmeu", "havij", "commix", "jaeles", "fimap", "hydra", "morfeus", "paros", "webinspect", "appscan", "xsstrike", "dalfox",
  "sqlninja", "bsqlbf", "jorgee", "dirsearch", "joomscan", "droopescan", "wapiti", "vega/", "l9explore", "l9tcpid",
  "grabber", "pangolin", "brutus", "x-scan", "teh forest lobster", "zollard", "muieblackcat", "absinthe", "nmap", "fuzz faster u fool",
];

const search = new MultiSearch(true);
let ready = false;

/** Index into TOOLS of the scanner named in the user agent, or -1. */
export function scannerIn(p: usize, n: i32): i32 {
  if (!ready) {
    ready = true;
    for (let i = 0; i < TOOLS.length; i++) search.addString(TOOLS[i], i);
    search.build();
  }
  return search.first(p, n);
}

export function scannerName(i: i32): string { return i >= 0 && i < TOOLS.length ? TOOLS[i] : ""; }

