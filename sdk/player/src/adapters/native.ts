/**
 * Native <video> adapter: QoE from the element alone (VideoMonitor), for progressive files and for
 * HLS played natively (Safari, or Chromium's built-in HLS). The page cannot see a native player's
 * manifest or segment requests, so when the source is HLS the session is marked with m-trace's
 * `network_signal_absent` boundaries (adapter native_hls, reason native_hls_unavailable) instead of
 * sending manifest_loaded / segment_loaded; no traceparent or CMCD can be added to those requests.
 */
import type { AdapterContext, Detach } from '../context';
import { createVideoMonitor, type VideoLike } from './video';

function isHlsUrl(src: string | undefined): boolean {
  if (!src) return false;
  return /\.m3u8?($|[?#])/i.test(src) || /mpegurl/i.test(src);
}

export function attachVideo(ctx: AdapterContext, video: VideoLike): Detach {
  const monitor = createVideoMonitor(ctx, video, { adapter: 'native' });
  const checkSource = () => {
    const src = video.currentSrc || video.src;
    if (!isHlsUrl(src)) return;
    ctx.addBoundary('manifest', 'native_hls', 'native_hls_unavailable');
    ctx.addBoundary('segment', 'native_hls', 'native_hls_unavailable');
  };
  const onLoadStart = () => {
    try {
      checkSource();
    } catch (e) {
      ctx.debug('native source check failed', e);
    }
  };
  video.addEventListener('loadstart', onLoadStart);
  onLoadStart();
  const stop = monitor.start();
  let detached = false;
  return () => {
    if (detached) return;
    detached = true;
    video.removeEventListener('loadstart', onLoadStart);
    stop();
  };
}
