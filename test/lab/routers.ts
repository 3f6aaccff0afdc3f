// The router daemon for a kind: FRR, BIRD or GoBGP.
import { birdRouter } from './router-bird.js';
import { frrRouter } from './router-frr.js';
import { gobgpRouter } from './router-gobgp.js';
import type { RouterContext, RouterDaemon } from './router.js';

export function createRouter(ctx: RouterContext): RouterDaemon {
  switch (ctx.opts.kind) {
    case 'frr':
      return frrRouter(ctx);
    case 'bird':
      return birdRouter(ctx);
    case 'gobgp':
      return gobgpRouter(ctx);
  }
}
