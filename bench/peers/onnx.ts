// The native addon a Node user would reach for: onnxruntime-node (CPU execution provider) running the focal loss
// as an ONNX graph, forward only (onnxruntime-node has no training API). The models are built here, node by node,
// from the formulas as torchvision and mmcv write them, and encoded with onnx-proto (the ONNX protobuf schema
// compiled for protobufjs): no hand-written bytes, no model file in the repo. One session per model, reused for
// every size (the dimensions are symbolic), with one intra-op thread like the engine.
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { Contender } from '../harness.js';

const { onnx } = onnxProto;
type Node = onnxProto.onnx.INodeProto;

const OPSET = 17;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT32 = onnx.TensorProto.DataType.INT32;

function node(opType: string, input: string[], output: string, attribute: onnxProto.onnx.IAttributeProto[] = []): Node {
  return { opType, input, output: [output], name: output, attribute };
}

function int(name: string, i: number): onnxProto.onnx.IAttributeProto {
  return { name, i, type: onnx.AttributeProto.AttributeType.INT };
}

function scalar(name: string, value: number): onnxProto.onnx.ITensorProto {
  return { name, dataType: FLOAT, dims: [], floatData: [value] };
}

function tensorInput(name: string, elemType: number, dims: string[]): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((dimParam) => ({ dimParam })) } } } };
}

function model(name: string, nodes: Node[], inputs: onnxProto.onnx.IValueInfoProto[],
  initializer: onnxProto.onnx.ITensorProto[]): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'focal-wasm bench/peers/onnx.ts',
    graph: {
      name, node: nodes, input: inputs, initializer,
      output: [{ name: 'loss', type: { tensorType: { elemType: FLOAT, shape: { dim: [] } } } }],
    },
  }).finish();
}

/**
 * torchvision.ops.sigmoid_focal_loss, reduction 'mean': ce = BCE with logits = softplus(x) - x t,
 * p_t = p t + (1-p)(1-t), loss = alpha_t (1 - p_t)^gamma ce.
 */
export function sigmoidFocalModel(alpha: number, gamma: number): Uint8Array {
  return model('sigmoid_focal_loss', [
    node('Sigmoid', ['x'], 'p'),
    node('Softplus', ['x'], 'softplus'),
    node('Mul', ['x', 't'], 'xt'),
    node('Sub', ['softplus', 'xt'], 'ce'),
    node('Mul', ['p', 't'], 'pt_pos'),
    node('Sub', ['one', 'p'], 'one_minus_p'),
    node('Sub', ['one', 't'], 'one_minus_t'),
    node('Mul', ['one_minus_p', 'one_minus_t'], 'pt_neg'),
    node('Add', ['pt_pos', 'pt_neg'], 'p_t'),
    node('Sub', ['one', 'p_t'], 'q'),
    node('Pow', ['q', 'gamma'], 'modulator'),
    node('Mul', ['ce', 'modulator'], 'focal'),
    node('Mul', ['alpha', 't'], 'alpha_pos'),
    node('Mul', ['one_minus_alpha', 'one_minus_t'], 'alpha_neg'),
    node('Add', ['alpha_pos', 'alpha_neg'], 'alpha_t'),
    node('Mul', ['alpha_t', 'focal'], 'weighted'),
    node('ReduceMean', ['weighted'], 'loss', [int('keepdims', 0)]),
  ], [tensorInput('x', FLOAT, ['n']), tensorInput('t', FLOAT, ['n'])], [
    scalar('one', 1), scalar('gamma', gamma), scalar('alpha', alpha), scalar('one_minus_alpha', 1 - alpha),
  ]);
}

/** mmcv's softmax focal loss with class indices, no alpha, 'mean' over rows: -(1 - p_y)^gamma log p_y. */
export function softmaxFocalModel(gamma: number): Uint8Array {
  return model('softmax_focal_loss', [
    node('LogSoftmax', ['z'], 'log_p', [int('axis', 1)]),
    node('Unsqueeze', ['y', 'class_axis'], 'y_column'),
    node('GatherElements', ['log_p', 'y_column'], 'log_p_y', [int('axis', 1)]),
    node('Exp', ['log_p_y'], 'p_y'),
    node('Sub', ['one', 'p_y'], 'u'),
    node('Pow', ['u', 'gamma'], 'modulator'),
    node('Mul', ['modulator', 'log_p_y'], 'focal'),
    node('ReduceMean', ['focal'], 'mean', [int('keepdims', 0)]),
    node('Neg', ['mean'], 'loss'),
  ], [tensorInput('z', FLOAT, ['n', 'c']), tensorInput('y', INT32, ['n'])], [
    scalar('one', 1), scalar('gamma', gamma),
    { name: 'class_axis', dataType: onnx.TensorProto.DataType.INT64, dims: [1], int64Data: [1] },
  ]);
}

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all',
};

const sessions = new Map<string, Promise<ort.InferenceSession>>();

function session(key: string, build: () => Uint8Array): Promise<ort.InferenceSession> {
  let s = sessions.get(key);
  if (!s) {
    s = ort.InferenceSession.create(build(), SESSION_OPTIONS);
    sessions.set(key, s);
  }
  return s;
}

/** What runs the peer, for the table's header. */
export const onnxNote = `onnxruntime: onnxruntime-node ${ort.env.versions.node ?? '?'}, CPU execution provider, 1 ` +
  'intra-op thread, graph optimization \'all\', opset 17 models built by bench/peers/onnx.ts; forward only; the ' +
  'timed call is session.run (a Promise) on tensors made before timing';

function onnxContender(key: string, build: () => Uint8Array, feeds: () => Record<string, ort.Tensor>): Contender {
  let s: ort.InferenceSession | undefined;
  let inputs: Record<string, ort.Tensor> = {};
  const call = async () => {
    const out = await s!.run(inputs);
    return { loss: Number(out.loss!.data[0]) };
  };
  return {
    impl: 'onnxruntime',
    async setup() {
      s = await session(key, build);
      inputs = feeds();
    },
    check: call,
  };
}

export function sigmoidOnnx(logits: Float32Array, targets: Float32Array, alpha: number, gamma: number): Contender {
  return onnxContender(`sigmoid ${alpha} ${gamma}`, () => sigmoidFocalModel(alpha, gamma), () => ({
    x: new ort.Tensor('float32', logits, [logits.length]),
    t: new ort.Tensor('float32', targets, [targets.length]),
  }));
}

export function softmaxOnnx(logits: Float32Array, targets: Int32Array, classes: number, gamma: number): Contender {
  return onnxContender(`softmax ${gamma}`, () => softmaxFocalModel(gamma), () => ({
    z: new ort.Tensor('float32', logits, [targets.length, classes]),
    y: new ort.Tensor('int32', targets, [targets.length]),
  }));
}
