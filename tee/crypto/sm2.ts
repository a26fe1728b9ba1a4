// SM2 digital signature (GB/T 32918.2-2016) for the reference TEE. The implementation is the
// pure shared module pure/sm2.ts, so ree/emv/oda can verify SM2 card signatures with the same
// code without importing tee/.
export * from '../../pure/sm2.ts';
