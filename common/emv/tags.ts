// EMV data element dictionary (EMV Book 3 Annex A, EMV Contactless Book C-2/C-3/C-7): the
// name and format of the tags this kernel reads or builds. The format decides how a DOL pads
// and truncates a value (Book 3 §5.4), and how values are shown.

/** n: numeric BCD, right-justified; cn: compressed numeric, left-justified, 'F'-padded;
 *  b: binary; an/ans: (alpha)numeric (special) text; var: template or proprietary. */
export type TagFormat = 'n' | 'cn' | 'b' | 'an' | 'ans' | 'var';

export interface TagInfo { name: string; format: TagFormat }

export const TAGS: Readonly<Record<string, TagInfo>> = {
  '42': { name: 'Issuer Identification Number', format: 'n' },
  '4F': { name: 'Application Identifier (AID) - card', format: 'b' },
  '50': { name: 'Application Label', format: 'ans' },
  '57': { name: 'Track 2 Equivalent Data', format: 'b' },
  '5A': { name: 'Application PAN', format: 'cn' },
  '5F20': { name: 'Cardholder Name', format: 'ans' },
  '5F24': { name: 'Application Expiration Date', format: 'n' },
  '5F25': { name: 'Application Effective Date', format: 'n' },
  '5F28': { name: 'Issuer Country Code', format: 'n' },
  '5F2A': { name: 'Transaction Currency Code', format: 'n' },
  '5F2D': { name: 'Language Preference', format: 'an' },
  '5F34': { name: 'PAN Sequence Number', format: 'n' },
  '61': { name: 'Application Template', format: 'var' },
  '6F': { name: 'FCI Template', format: 'var' },
  '70': { name: 'READ RECORD Response Message Template', format: 'var' },
  '77': { name: 'Response Message Template Format 2', format: 'var' },
  '80': { name: 'Response Message Template Format 1', format: 'var' },
  '82': { name: 'Application Interchange Profile', format: 'b' },
  '83': { name: 'Command Template', format: 'b' },
  '84': { name: 'Dedicated File (DF) Name', format: 'b' },
  '87': { name: 'Application Priority Indicator', format: 'b' },
  '8A': { name: 'Authorisation Response Code', format: 'an' },
  '8C': { name: 'CDOL1', format: 'b' },
  '8D': { name: 'CDOL2', format: 'b' },
  '8E': { name: 'CVM List', format: 'b' },
  '8F': { name: 'Certification Authority Public Key Index', format: 'b' },
  '90': { name: 'Issuer Public Key Certificate', format: 'b' },
  '92': { name: 'Issuer Public Key Remainder', format: 'b' },
  '94': { name: 'Application File Locator (AFL)', format: 'var' },
  '95': { name: 'Terminal Verification Results', format: 'b' },
  '9A': { name: 'Transaction Date', format: 'n' },
  '9C': { name: 'Transaction Type', format: 'n' },
  '9F02': { name: 'Amount, Authorised (Numeric)', format: 'n' },
  '9F03': { name: 'Amount, Other (Numeric)', format: 'n' },
  '9F06': { name: 'Application Identifier (AID) - terminal', format: 'b' },
  '9F07': { name: 'Application Usage Control', format: 'b' },
  '9F08': { name: 'Application Version Number', format: 'b' },
  '9F09': { name: 'Application Version Number (terminal)', format: 'b' },
  '9F10': { name: 'Issuer Application Data', format: 'b' },
  '9F11': { name: 'Issuer Code Table Index', format: 'n' },
  '9F12': { name: 'Application Preferred Name', format: 'ans' },
  '9F19': { name: 'Token Requestor ID', format: 'n' },
  '9F1A': { name: 'Terminal Country Code', format: 'n' },
  '9F1F': { name: 'Track 1 Discretionary Data', format: 'ans' },
  '9F20': { name: 'Track 2 Discretionary Data', format: 'cn' },
  '9F21': { name: 'Transaction Time', format: 'n' },
  '9F26': { name: 'Application Cryptogram', format: 'b' },
  '9F27': { name: 'Cryptogram Information Data', format: 'b' },
  '9F2A': { name: 'Kernel Identifier', format: 'b' },
  '9F32': { name: 'Issuer Public Key Exponent', format: 'b' },
  '9F33': { name: 'Terminal Capabilities', format: 'b' },
  '9F34': { name: 'CVM Results', format: 'b' },
  '9F35': { name: 'Terminal Type', format: 'n' },
  '9F36': { name: 'Application Transaction Counter (ATC)', format: 'b' },
  '9F37': { name: 'Unpredictable Number', format: 'b' },
  '9F38': { name: 'PDOL', format: 'b' },
  '9F40': { name: 'Additional Terminal Capabilities', format: 'b' },
  '9F42': { name: 'Application Currency Code', format: 'n' },
  '9F46': { name: 'ICC Public Key Certificate', format: 'b' },
  '9F47': { name: 'ICC Public Key Exponent', format: 'b' },
  '9F48': { name: 'ICC Public Key Remainder', format: 'b' },
  '9F4A': { name: 'Static Data Authentication Tag List', format: 'b' },
  '9F4B': { name: 'Signed Dynamic Application Data', format: 'b' },
  '9F4C': { name: 'ICC Dynamic Number', format: 'b' },
  '9F4E': { name: 'Merchant Name and Location', format: 'ans' },
  '9F51': { name: 'Application Currency Code (PBOC)', format: 'n' },
  '9F5D': { name: 'Available Offline Spending Amount', format: 'n' },
  '9F66': { name: 'Terminal Transaction Qualifiers (TTQ)', format: 'b' },
  '9F69': { name: 'Card Authentication Related Data', format: 'b' },
  '9F6C': { name: 'Card Transaction Qualifiers (CTQ)', format: 'b' },
  '9F6E': { name: 'Form Factor Indicator / Third Party Data', format: 'b' },
  'A5': { name: 'FCI Proprietary Template', format: 'var' },
  'BF0C': { name: 'FCI Issuer Discretionary Data', format: 'var' },
  'DF8129': { name: 'Outcome Parameter Set', format: 'b' },
};

export function tagFormat(tag: string): TagFormat {
  return TAGS[tag]?.format ?? 'b';
}

export function tagName(tag: string): string {
  return TAGS[tag]?.name ?? `tag ${tag}`;
}
