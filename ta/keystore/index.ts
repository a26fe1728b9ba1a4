// Keystore TA: payment keys generated or imported inside the TEE, kept in sealed storage, used
// only by the operations their attributes allow, and by the callers allowed for each: the REE
// manages keys and uses data and MAC keys; only the pinpad TA may encrypt PIN blocks (DUKPT or
// static SM4), only the txsign TA may MAC under DUKPT, only the attest TA may install an
// ECDH-agreed KEK.
// No clear key ever leaves this TA.
import { TrustedApp, Reply, Client, registerApp, uuidBytes } from "../lib/entry";
import { Command } from "../../proto/gen/as/keystore";
import { KEYSTORE_UUID, PINPAD_UUID, TXSIGN_UUID, ATTEST_UUID } from "../lib/uuids";
import { ERROR_BAD_PARAMETERS, ERROR_ACCESS_DENIED } from "../lib/status";
import * as keys from "./keys";
import * as blocks from "./blocks";
import * as ops from "./ops";
import * as dukpt from "./dukpt";
import * as sm4 from "./sm4";

const pinpad = uuidBytes(PINPAD_UUID);
const txsign = uuidBytes(TXSIGN_UUID);
const attest = uuidBytes(ATTEST_UUID);

function onlyFrom(client: Client, uuid: Uint8Array, name: string, reply: Reply): bool {
  if (client.isTa(uuid)) return true;
  reply.fail(ERROR_ACCESS_DENIED, "this command is reserved to the " + name + " TA");
  return false;
}

class Keystore extends TrustedApp {
  invoke(session: u32, client: Client, command: u32, input: Uint8Array, reply: Reply): void {
    switch (command) {
      case Command.COMMAND_GENERATE_KEY: return keys.generate(input, reply);
      case Command.COMMAND_GET_KEY_INFO: return keys.info(input, reply);
      case Command.COMMAND_LIST_KEYS: return keys.list(reply);
      case Command.COMMAND_DELETE_KEY: return keys.destroy(input, reply);
      case Command.COMMAND_IMPORT_KEY_BLOCK: return blocks.importKeyBlock(input, reply);
      case Command.COMMAND_EXPORT_KEY_BLOCK: return blocks.exportKeyBlock(input, reply);
      case Command.COMMAND_IMPORT_CLEAR_KEY: return keys.importClear(input, reply);
      case Command.COMMAND_GENERATE_MAC: return ops.generateMac(input, reply);
      case Command.COMMAND_VERIFY_MAC: return ops.verifyMac(input, reply);
      case Command.COMMAND_ENCRYPT_DATA: return ops.encryptData(input, reply);
      case Command.COMMAND_DECRYPT_DATA: return ops.decryptData(input, reply);
      case Command.COMMAND_DUKPT_NEXT_TRANSACTION: return dukpt.nextTransaction(input, reply);
      case Command.COMMAND_DUKPT_STATUS: return dukpt.status(input, reply);
      case Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK:
        if (onlyFrom(client, pinpad, "pinpad", reply)) dukpt.encryptPinBlock(input, reply);
        return;
      case Command.COMMAND_DUKPT_GENERATE_MAC:
        if (onlyFrom(client, txsign, "txsign", reply)) dukpt.generateMac(input, reply);
        return;
      case Command.COMMAND_DUKPT_ENCRYPT_DATA:
        if (onlyFrom(client, txsign, "txsign", reply)) dukpt.encryptData(input, reply);
        return;
      case Command.COMMAND_IMPORT_WRAPPED_KEY: return sm4.importWrapped(input, reply);
      case Command.COMMAND_ENCRYPT_PIN_BLOCK:
        if (onlyFrom(client, pinpad, "pinpad", reply)) sm4.encryptPinBlock(input, reply);
        return;
      case Command.COMMAND_INSTALL_AGREED_KEK:
        if (onlyFrom(client, attest, "attest", reply)) keys.installAgreedKek(input, reply);
        return;
    }
    reply.fail(ERROR_BAD_PARAMETERS, "unknown command " + command.toString());
  }
}

registerApp(new Keystore("keystore", "0.2.0", uuidBytes(KEYSTORE_UUID)));

export {
  io_in, io_out, io_cap, ta_out_len, ta_create, ta_open_session, ta_invoke, ta_close_session, ta_destroy,
} from "../lib/entry";
