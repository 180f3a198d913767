"""The Triton model configuration (`config.pbtxt`) train_neural.py writes beside the ONNX
model: the GPU service loads it unchanged, and the local CPU twin reads the same file for its
dynamic batcher.
"""

TRITON_CONFIG = """# Triton model configuration for {name} {version} (ONNX Runtime backend).
# The GPU service loads this directory unchanged; services/neural (the local CPU twin) reads
# the same file for its dynamic batcher. Dims exclude the batch dimension (max_batch_size > 0).
name: "{name}"
platform: "onnxruntime_onnx"
max_batch_size: {max_batch}
input [
  {{
    name: "sequence"
    data_type: TYPE_FP32
    dims: [ {steps}, {width} ]
  }}
]
output [
  {{
    name: "score"
    data_type: TYPE_FP32
    dims: [ 1 ]
  }}
]
# Batching defaults: Triton's recommended start (docs/user_guide/batcher.md), no preferred sizes and no
# queue delay. A free instance takes whatever is queued, so batches grow with load on their
# own (requests queue while the instance is busy) and a lone request never waits; a delay would
# only buy throughput below saturation, at the cost of every request's latency.
dynamic_batching {{{preferred}
  max_queue_delay_microseconds: {delay_us}
}}
instance_group [
  {{
    count: 1
    kind: KIND_GPU
  }}
]
version_policy: {{ latest: {{ num_versions: 1 }} }}
"""
