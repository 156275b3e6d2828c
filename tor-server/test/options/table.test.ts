import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, count, defaults, list, oneOf, option, parseOptions, port, text, usage, yesNo, InvalidValue } from '../../src/options/index.js';

const TABLE = {
  host: option({ flag: 'host', env: 'T_HOST', help: 'address to listen on', parse: text, default: '0.0.0.0' }),
  port: option({ flag: 'port', env: 'T_PORT', help: 'TCP port', parse: port, default: 7 }),
  maxThings: option({ flag: 'max-things', env: 'T_MAX_THINGS', help: 'most things at once', parse: count, default: 3 }),
  level: option({ flag: 'level', env: 'T_LEVEL', help: 'how loud', parse: oneOf(['quiet', 'loud']), default: 'quiet' }),
  names: option({ flag: 'names', env: 'T_NAMES', help: 'names, comma-separated', parse: list(oneOf(['a', 'b'])), default: [] }),
};

describe('parseOptions', () => {
  it('gives the defaults, by the names the code uses, when nothing is given', () => {
    assert.deepEqual(parseOptions(TABLE, [], {}, 'T_ERR'), { host: '0.0.0.0', port: 7, maxThings: 3, level: 'quiet', names: [] });
    assert.deepEqual(defaults(TABLE), parseOptions(TABLE, [], {}, 'T_ERR'));
  });

  it('a flag beats its variable, which beats the default; an empty variable counts as unset', () => {
    assert.deepEqual(parseOptions(TABLE, [], { T_PORT: '80', T_MAX_THINGS: '5', T_HOST: '' }, 'T_ERR'), { ...defaults(TABLE), port: 80, maxThings: 5 });
    assert.deepEqual(parseOptions(TABLE, ['--port', '81', '--names', 'a, ,b'], { T_PORT: '80', T_NAMES: 'b' }, 'T_ERR'), { ...defaults(TABLE), port: 81, names: ['a', 'b'] });
  });

  it('a switch takes no value on the command line, and yes or no from its variable', () => {
    const table = { tls: option({ flag: 'tls', env: 'T_TLS', help: 'speak TLS', parse: yesNo, default: false, switch: true }), port: TABLE.port };
    assert.deepEqual(parseOptions(table, ['--tls', '--port', '9'], {}, 'T_ERR'), { tls: true, port: 9 });
    assert.deepEqual(parseOptions(table, [], { T_TLS: 'yes' }, 'T_ERR'), { tls: true, port: 7 });
    assert.deepEqual(parseOptions(table, [], { T_TLS: '0' }, 'T_ERR'), { tls: false, port: 7 });
    assert.throws(() => parseOptions(table, [], { T_TLS: 'maybe' }, 'T_ERR'), /--tls \(T_TLS\): "maybe" is not one of 1, true, yes, on, 0, false, no, off/);
    assert.throws(() => parseOptions(table, ['--tls=1'], {}, 'T_ERR'), ConfigError);
    assert.match(usage('t', table), /--tls\s+speak TLS \[env T_TLS=1\]/);
  });

  it('--help and -h ask for the usage', () => {
    assert.equal(parseOptions(TABLE, ['--help'], {}, 'T_ERR'), 'help');
    assert.equal(parseOptions(TABLE, ['-h', '--port', '1'], {}, 'T_ERR'), 'help');
  });

  it('a refused value names the flag, its variable and the text, with the program\'s code', () => {
    const refusals: [string[], NodeJS.ProcessEnv, string][] = [
      [['--port', '65536'], {}, '--port (T_PORT): "65536" is not a valid value'],
      [[], { T_PORT: '8o' }, '--port (T_PORT): "8o" is not a valid value'],
      [['--max-things', '0'], {}, '--max-things (T_MAX_THINGS): "0" is not a whole number of at least 1'],
      [['--level', 'medium'], {}, '--level (T_LEVEL): "medium" is not one of quiet, loud'],
      [['--names', 'a,c'], {}, '--names (T_NAMES): "c" is not one of a, b'],
    ];
    for (const [argv, env, message] of refusals) {
      assert.throws(() => parseOptions(TABLE, argv, env, 'T_ERR'), (error: unknown) => error instanceof ConfigError && error.code === 'T_ERR' && error.message === message, message);
    }
  });

  it('unknown flags and stray words are a ConfigError too', () => {
    for (const argv of [['--prot', '1'], ['serve']]) {
      assert.throws(() => parseOptions(TABLE, argv, {}, 'T_ERR'), (error: unknown) => error instanceof ConfigError && error.code === 'T_ERR', argv.join(' '));
    }
  });

  it('an error that is not InvalidValue is a bug, passed through as it is', () => {
    const broken = { x: option({ flag: 'x', env: 'T_X', help: 'x', parse: (): number => { throw new RangeError('bug'); }, default: 0 }) };
    assert.throws(() => parseOptions(broken, ['--x', '1'], {}, 'T_ERR'), RangeError);
  });
});

describe('usage', () => {
  it('one aligned line a flag with its variable, then --help', () => {
    assert.equal(
      usage('thing', TABLE),
      [
        'Usage: thing [options]',
        '',
        '  --host        address to listen on [env T_HOST]',
        '  --port        TCP port [env T_PORT]',
        '  --max-things  most things at once [env T_MAX_THINGS]',
        '  --level       how loud [env T_LEVEL]',
        '  --names       names, comma-separated [env T_NAMES]',
        '  --help        show this help',
        '',
      ].join('\n'),
    );
  });
});

describe('InvalidValue from a list item', () => {
  it('keeps the item as the offending text', () => {
    assert.throws(() => list(port)('1, x ,2'), (error: unknown) => error instanceof InvalidValue && error.text === 'x');
  });
});
