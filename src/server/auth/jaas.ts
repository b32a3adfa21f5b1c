/**
 * The SASL user list ZooKeeper reads from a JAAS login configuration: the "Server" section's
 * login module options named user_<name>="<password>" (SaslServerCallbackHandler), e.g.
 *
 *   Server {
 *     org.apache.zookeeper.server.auth.DigestLoginModule required
 *     user_super="adminsecret"
 *     user_bob="bobsecret";
 *   };
 *
 * Pure: parses text (the CLI reads the file). The grammar is JAAS's ConfigFile syntax:
 * sections `Name { entry; ... };`, each entry `class flag key=value ... ;`, values quoted or
 * bare, comments `//` and `/* *\/`. A malformed file is refused with the line it fails on.
 */

export class JaasError extends Error {
  override readonly name = 'JaasError';
}

type Token = { text: string; quoted: boolean; line: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new JaasError(`line ${line}: unterminated /* comment`);
      for (let k = i; k < end; k++) if (src[k] === '\n') line++;
      i = end + 2;
    } else if ('{};='.includes(c)) {
      out.push({ text: c, quoted: false, line });
      i++;
    } else if (c === '"') {
      const start = line;
      let v = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new JaasError(`line ${start}: unterminated quoted value`);
        const q = src[i++]!;
        if (q === '"') break;
        if (q === '\\' && i < src.length) v += src[i++]!;
        else {
          if (q === '\n') line++;
          v += q;
        }
      }
      out.push({ text: v, quoted: true, line: start });
    } else {
      const start = i;
      while (i < src.length && !/\s/.test(src[i]!) && !'{};="'.includes(src[i]!)) i++;
      out.push({ text: src.slice(start, i), quoted: false, line });
    }
  }
  return out;
}

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional']);

/** user name -> password from the named section (ZooKeeper's default "Server"). */
export function parseJaasUsers(text: string, section = 'Server'): Map<string, string> {
  const t = tokenize(text);
  let p = 0;
  const next = (what: string): Token => {
    const tok = t[p++];
    if (!tok) throw new JaasError(`unexpected end of file: expected ${what}`);
    return tok;
  };
  const expect = (s: string) => {
    const tok = next(`'${s}'`);
    if (tok.quoted || tok.text !== s) throw new JaasError(`line ${tok.line}: expected '${s}', found '${tok.text}'`);
  };
  const users = new Map<string, string>();
  let found = false;
  while (p < t.length) {
    const name = next('a section name');
    if (name.quoted || '{};='.includes(name.text)) throw new JaasError(`line ${name.line}: expected a section name, found '${name.text}'`);
    expect('{');
    while (t[p] && !(t[p]!.text === '}' && !t[p]!.quoted)) {
      const cls = next('a login module class');
      const flag = next('a control flag');
      if (!FLAGS.has(flag.text.toLowerCase())) throw new JaasError(`line ${flag.line}: '${flag.text}' is not a control flag (required, requisite, sufficient, optional) after ${cls.text}`);
      while (t[p] && !(t[p]!.text === ';' && !t[p]!.quoted)) {
        const key = next('an option name');
        if (!key.quoted && '{}='.includes(key.text)) throw new JaasError(`line ${key.line}: expected ';' to end the entry, found '${key.text}'`);
        expect('=');
        const value = next(`a value for ${key.text}`);
        if (name.text === section && key.text.startsWith('user_')) users.set(key.text.slice('user_'.length), value.text);
      }
      expect(';');
    }
    expect('}');
    expect(';');
    if (name.text === section) found = true;
  }
  if (!found) throw new JaasError(`no '${section}' section`);
  if (users.size === 0) throw new JaasError(`the '${section}' section has no user_<name>="<password>" options`);
  return users;
}
