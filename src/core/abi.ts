// The kernel ABI: the one file both compilers read. assembly/abi.ts re-exports it for asc (each offset below becomes
// the constant offset field of a load), and src/core/ imports it for tsc, so nothing is mirrored by hand.
// Every loss kernel takes (streams, count, ..., params): `streams` points at the stream table (byte addresses of
// the arrays it reads and writes, 0 for an absent one), `params` at the parameter block (scalars by name).
// Plain numeric constants only: asc reads them as i32 (offsets, modes, flags), tsc as numbers.

/** Elements per staging slot: 64 KiB of float32, a multiple of 4 so the reduction lanes line up across chunks. */
export const CHUNK = 16384;

/**
 * Floats of slack a row kernel may touch after the last row of a buffer: the SIMD row passes take a row's last
 * classes % 4 as one vector, reading up to 3 floats past it, and some write that whole vector (rowExpSum,
 * rowExpSumExcept, scaleRow: the lanes past an inner row land in the next row, rewritten when that row is done).
 * So every row buffer a row kernel writes has ROW_SLACK floats after it: the staging slots do, and so do the
 * views of fl.alloc; a view without that padding is staged, never written in place.
 */
export const ROW_SLACK = 4;

/**
 * Elements per block of the DETR cost's passes (assembly/detr/cost.ts): its three scratch rows of COST_BLOCK floats
 * are the start of the cost matrix's own buffer, which the facade stages with at least 3 COST_BLOCK floats.
 */
export const COST_BLOCK = 256;

/** What every loss kernel returns when an element it keeps has an invalid value (the facade then locates it). */
export const STATUS_INVALID = -1;

// ---- how a kernel forms x^gamma (the facade picks the mode once per call; see gammaMode in src/core/params.ts) --
export const GAMMA_ZERO = 0; // 1
export const GAMMA_ONE = 1; // x
export const GAMMA_TWO = 2; // x x
export const GAMMA_HALF = 3; // sqrt x
export const GAMMA_GENERAL = 4; // pow

// ---- flags (PARAM_FLAGS) ---------------------------------------------------------------------------------------
export const FLAG_HAS_IGNORE = 1; // sigmoid family: targets equal to PARAM_IGNORE_VALUE are ignored
export const FLAG_IOU_WEIGHTED = 2; // varifocal: positives weighted by their target q
export const FLAG_REDUCED = 4; // focal: smp's reduced focal term
export const FLAG_NORMALIZED = 8; // focal: scale by PARAM_INV_S and add PARAM_DF_COEF * d(focal term)/dx
export const FLAG_NORMALIZED_DIAG = 16; // with FLAG_NORMALIZED, reduction 'none': the coefficient is -loss_i / S^2
export const FLAG_LOG_OUTPUT = 32; // softmax rows: log-softmax instead of softmax
// The modulating factor is a constant of the gradient (stop-gradient): asymmetric (its modulator), focal (sigmoid
// variant kernel and both softmax kernels: alpha_t (1 - p_t)^gamma), varifocal (the negatives' alpha p^gamma).
export const FLAG_DETACH_MODULATOR = 64;
export const FLAG_COST_EPS = 128; // focal matching cost: the anchor's -log(p + eps), -log(1 - p + eps) (PARAM_COST_EPS)
export const FLAG_SQUARED_PRED = 256; // overlap losses: sum p^2 and t^2 (MONAI squared_pred) instead of p and t
export const FLAG_FOCAL_TERM = 512; // overlap losses: the sigmoid focal term of diceFocalLoss, per class
export const FLAG_SOFTMAX_STAGED = 1024; // overlap losses, pass 2: STREAM_INPUT holds pass 1's softmax, not the logits

// ---- how an overlap kernel turns an input into a probability (PARAM_ACTIVATION) ---------------------------------
export const ACTIVATION_NONE = 0; // the input is the probability
export const ACTIVATION_SIGMOID = 1;
export const ACTIVATION_SOFTMAX = 2; // over the classes of each position

// ---- the stream table: one i32 byte address per stream, 0 when absent --------------------------------------------
export const STREAM_INPUT = 0; // logits (probabilities for the binary loss), float32
export const STREAM_TARGETS = 4; // float32 targets (soft targets for softmax)
export const STREAM_LABELS = 8; // int32 class indices (softmax)
export const STREAM_WEIGHTS = 12; // float32 per element (per row for softmax)
export const STREAM_CLASS_WEIGHTS = 16; // float32: tiled per element (sigmoid family), one per class (softmax alpha)
export const STREAM_POS_WEIGHTS = 20; // float32, tiled per element (posWeight)
export const STREAM_MASK = 24; // float32 per element, 0 = ignored
export const STREAM_LOSS = 28; // float32 output: per element or per row; the primitives' result
export const STREAM_GRAD = 32; // float32 output, the input's shape
export const STREAM_SCRATCH = 36; // float32, a staging slot (>= CHUNK): one softmax row; 32 rows' columns (hard.ts)
export const STREAM_ACC = 40; // four float64 lanes: the sum of the losses
export const STREAM_FOCAL_ACC = 44; // four float64 lanes: the sum of the focal terms (normalized focal, first pass)
export const STREAM_GAMMAS = 48; // float32 per-class focusing exponents: tiled per element (sigmoid focal), one per class (softmax)
// Overlap losses (Dice, Tversky): per class of the item being read, 16 float64 = four sums of four lanes each
// (sum p t, sum p^k, sum t^k, sum of the focal terms); and 4 float32 per class for the gradient pass (a, b, f, d).
export const STREAM_REGION_SUMS = 52;
export const STREAM_REGION_COEFS = 56;
export const STREAM_TABLE_BYTES = 60;

// ---- the parameter block: one layout for every kernel; each kernel reads the fields its comment names ------------
export const PARAM_ALPHA = 0; // f32; < 0: no alpha weighting
export const PARAM_GAMMA = 4; // f32: the focusing exponent (QFL: its beta)
export const PARAM_GAMMA_MODE = 8; // i32: GAMMA_*
export const PARAM_GRAD_SCALE = 12; // f32: multiplies every gradient (1 / the 'mean' divisor)
export const PARAM_FLAGS = 16; // i32: FLAG_*
export const PARAM_SHIFT = 20; // f32: FL*'s beta, p_t* = sigmoid(gamma x_t + beta)
export const PARAM_EPSILON = 24; // f32: Poly-1's epsilon
export const PARAM_THRESHOLD = 28; // f32: smp's reduced threshold
export const PARAM_THRESHOLD_SCALE = 32; // f32: threshold^-gamma
export const PARAM_IGNORE_VALUE = 36; // f32: with FLAG_HAS_IGNORE
export const PARAM_INV_S = 40; // f32: normalized focal, 1 / S
export const PARAM_DF_COEF = 44; // f32: normalized focal, the coefficient of d(focal term)/dx
export const PARAM_CLIP_LO = 48; // f32: binary loss, the clip range of the log terms
export const PARAM_CLIP_HI = 52; // f32
export const PARAM_IGNORE_INDEX = 56; // i32: softmax, rows with this class index are ignored
export const PARAM_SMOOTH_KEEP = 60; // f32: softmax label smoothing, t' = t keep + lo
export const PARAM_SMOOTH_LO = 64; // f32
export const PARAM_GAMMA_NEG = 68; // f32: asymmetric loss, the exponent of the negatives (PARAM_GAMMA: the positives')
export const PARAM_CLIP = 72; // f32: asymmetric loss, the probability shift of the negatives
export const PARAM_EPS = 76; // f32: asymmetric loss, the lower clamp inside the logs
export const PARAM_COST_EPS = 80; // f32: focal matching cost, with FLAG_COST_EPS the eps inside its logs (1e-8)
export const PARAM_ACTIVATION = 84; // i32: overlap losses, ACTIVATION_*
export const PARAM_FIRST_CLASS = 88; // i32: overlap losses, the first class counted (1 without the background)
// The focal matching cost matrix (focalCostMatrix): logits are queries x PARAM_CLASSES, the cost queries x
// PARAM_TARGETS, through a table of PARAM_DISTINCT columns (one per distinct target class).
export const PARAM_CLASSES = 92; // i32
export const PARAM_DISTINCT = 96; // i32
export const PARAM_TARGETS = 100; // i32
export const PARAM_BLOCK_BYTES = 128;
