// Public surface of the reference runtime.
export { TeeRuntime, RuntimeError, RUNTIME_VERSION, type RuntimeOptions, type TaImage, type Isolation, type Result } from './runtime.ts';
export { InProcessTeeDriver, handleClientRequest, handleClientRequestAsync } from './driver.ts';
export { SelfTestError } from './crypto/self-test.ts';
export type { UiProvider, UiProviders, TuiScreen, TuiSink, TuiDisplay, AudioOut } from './tui/provider.ts';
export { readKeys, drawAsText, type SeenKey } from './tui/eyes.ts';
export { ScriptedUiProvider, ScriptedAccessibleUiProvider, SimulatedDisplay, enterPin, type Person, type Action } from './tui/scripted.ts';
export { setBoundaryRecorder, type BoundaryRecord } from './abi/recorder.ts';
export { loadTaImages, DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY, type LoadOptions } from './loader/from-build.ts';
export { hostAbi, HOST_ABI_VERSION } from './abi/table.ts';

import { TeeRuntime, type RuntimeOptions } from './runtime.ts';
import { loadTaImages, type LoadOptions } from './loader/from-build.ts';

/** Starts a runtime on the signed TAs of a build directory. */
export async function startRuntimeFromBuild(opts: Omit<RuntimeOptions, 'tas'> & LoadOptions): Promise<TeeRuntime> {
  const { images, manifestSha256 } = loadTaImages(opts);
  return TeeRuntime.start({ manifestSha256, ...opts, tas: images });
}
