// Field errors shaped and worded like apimachinery's pkg/util/validation/field (errors.go, 1.32),
// so the embedded API server can return them as Status causes unchanged.
import type { FieldError, FieldErrorType } from './types.ts';

/** A bad value as Go would print it: strings `%q`, numbers and booleans bare, anything else pre-rendered. */
export type BadValue = string | number | boolean | { go: string };

const typeText: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueTypeInvalid: 'Invalid value',
};

/** strconv.Quote: Go's `%q` for a string (escapes quotes, backslashes and non-printable runes). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd'; // lone surrogate: Go sees invalid UTF-8
    else if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(ch) || (/\p{Zs}/u.test(ch) && ch !== ' ')) {
      out += cp > 0xffff ? '\\U' + cp.toString(16).padStart(8, '0') : '\\u' + cp.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

function renderValue(v: BadValue): string {
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return v.go;
}

function make(type: FieldErrorType, field: string, value: BadValue | undefined, detail: string): FieldError {
  // Required, Forbidden and TooLong never print the value (field.Error.ErrorBody).
  let message = typeText[type];
  if (value !== undefined && type !== 'FieldValueRequired' && type !== 'FieldValueForbidden' && type !== 'FieldValueTooLong') {
    message += ': ' + renderValue(value);
  }
  if (detail) message += ': ' + detail;
  return { field, type, message };
}

/** field.Required */
export function required(field: string, detail = ''): FieldError {
  return make('FieldValueRequired', field, undefined, detail);
}

/** field.Invalid */
export function invalid(field: string, value: BadValue, detail: string): FieldError {
  return make('FieldValueInvalid', field, value, detail);
}

/** field.NotSupported: detail lists the supported values, each `%q`-quoted. */
export function notSupported(field: string, value: BadValue, supported: string[]): FieldError {
  return make('FieldValueNotSupported', field, value, supported.length ? 'supported values: ' + supported.map(goQuote).join(', ') : '');
}

/** field.Forbidden */
export function forbidden(field: string, detail: string): FieldError {
  return make('FieldValueForbidden', field, undefined, detail);
}

/** field.TooLong (1.32 wording: "must have at most N bytes"). */
export function tooLong(field: string, maxLength: number): FieldError {
  return make('FieldValueTooLong', field, undefined, `must have at most ${maxLength} bytes`);
}

/** field.Duplicate */
export function duplicate(field: string, value: BadValue): FieldError {
  return make('FieldValueDuplicate', field, value, '');
}

/** field.Error.Error(): `<field>: <message>`. */
export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${e.message}`;
}

/** field.Path.Child: `path.name`, or `name` at the root. */
export function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/** field.Path.Index: `path[i]`. */
export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}
