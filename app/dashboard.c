/* dashboard.c: the page served at / by the HTTP endpoint: firing and pending alerts and active
 * silences, read from /api/alerts and /api/silences by the browser every 5 s. One static page,
 * no external resources (the endpoint is often reached through an SSH tunnel, offline), and
 * every value goes in through textContent, never as HTML. With http.token (and no
 * public_reads) the API answers 401: the page then asks for the token and keeps it in the
 * tab's sessionStorage, never in a cookie (a cookie would be sent by other sites' pages too). */
#include "http_int.h"

#include <string.h>

static const char lw_dashboard_html[] =
    "<!doctype html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>logwarden</title>\n"
    "<style>\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
    "h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}\n"
    "table{border-collapse:collapse;width:100%}td,th{padding:.3em .6em;text-align:left;"
    "border-bottom:1px solid #ddd;vertical-align:top}\n"
    ".firing{color:#E01E5A;font-weight:600}.pending{color:#B8860B}.muted{color:#888}\n"
    "code{font-size:.9em}\n"
    "</style></head><body>\n"
    "<h1>logwarden</h1>\n"
    "<p class=\"muted\" id=\"status\">loading&hellip;</p>\n"
    "<form id=\"login\" hidden><label>API token (http.token) "
    "<input type=\"password\" id=\"token\" autocomplete=\"current-password\"></label> "
    "<button>use</button></form>\n"
    "<h2>Alerts</h2>\n"
    "<table><thead><tr><th>state</th><th>alert</th><th>group</th><th>value</th>"
    "<th>since</th><th>fingerprint</th></tr></thead><tbody id=\"alerts\"></tbody></table>\n"
    "<h2>Silences</h2>\n"
    "<table><thead><tr><th>matchers</th><th>until</th><th>comment</th><th>by</th>"
    "<th>id</th></tr></thead><tbody id=\"silences\"></tbody></table>\n"
    "<p class=\"muted\"><a href=\"/metrics\">/metrics</a> &middot; "
    "<a href=\"/api/alerts\">/api/alerts</a> &middot; "
    "<a href=\"/api/silences\">/api/silences</a></p>\n"
    "<script>\n"
    "function row(tb, cells, cls){var tr=document.createElement('tr');"
    "cells.forEach(function(v,i){var td=document.createElement('td');td.textContent=v;"
    "if(i===0&&cls)td.className=cls;tr.appendChild(td);});tb.appendChild(tr);}\n"
    "function empty(tb, n, text){tb.textContent='';var tr=document.createElement('tr');"
    "var td=document.createElement('td');td.colSpan=n;td.className='muted';"
    "td.textContent=text;tr.appendChild(td);tb.appendChild(tr);}\n"
    "function kv(o){return Object.keys(o||{}).map(function(k){return k+'='+o[k];})"
    ".join(', ');}\n"
    "function matchers(m){return (m||[]).map(function(x){return typeof x==='string'?x:"
    "x.name+(x.isEqual===false?'!':'')+(x.isRegex?'=~':'=')+x.value;}).join(', ');}\n"
    "var tok=sessionStorage.getItem('lwtoken')||'',login=document.getElementById('login');\n"
    "login.onsubmit=function(e){e.preventDefault();tok=document.getElementById('token').value;"
    "sessionStorage.setItem('lwtoken',tok);login.hidden=true;refresh();};\n"
    "function api(u){return fetch(u,{headers:tok?{Authorization:'Bearer '+tok}:{}})"
    ".then(function(r){if(r.status===401){login.hidden=false;"
    "throw new Error(tok?'wrong token':'the API needs a token');}return r.json();});}\n"
    "function refresh(){Promise.all([api('/api/alerts'),api('/api/silences')])"
    ".then(function(res){\n"
    "var a=res[0],s=res[1],tb=document.getElementById('alerts');\n"
    "a.sort(function(x,y){return (x.state===y.state?0:x.state==='firing'?-1:1)||"
    "(x.since<y.since?-1:1);});\n"
    "if(!a.length)empty(tb,6,'no alert is firing or pending');else{tb.textContent='';"
    "a.forEach(function(x){row(tb,[x.state,x.alert,kv(x.group),String(x.value),x.since,"
    "x.fingerprint],x.state);});}\n"
    "tb=document.getElementById('silences');\n"
    "if(!s.length)empty(tb,5,'no active silence');else{tb.textContent='';"
    "s.forEach(function(x){row(tb,[matchers(x.matchers),x.endsAt,x.comment,x.createdBy,"
    "x.id]);});}\n"
    "document.getElementById('status').textContent='updated '+new Date().toISOString()+"
    "' (every 5 s)';}).catch(function(e){document.getElementById('status').textContent="
    "'cannot read the API: '+(e.message||e);});}\n"
    "refresh();setInterval(refresh,5000);\n"
    "</script></body></html>\n";

/* CONTRACT STUB (issue 16): the static page; dashboard.c's owner renders it on the server. */
bool lw_dashboard_route(struct lw_http_server *h, struct MHD_Connection *c, const char *url,
                        const char *method, struct lw_http_req *rq, enum MHD_Result *ret)
{
    (void)h;
    (void)rq;
    if (strcmp(url, "/") || strcmp(method, "GET"))
        return false;
    *ret = lw_http_reply(c, 200, "text/html; charset=utf-8", lw_dashboard_html,
                         strlen(lw_dashboard_html));
    return true;
}
