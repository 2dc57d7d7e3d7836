"""scripts/export_gemm_floor.py: the bench's floor graph holds the sampler's matrix products and nothing else."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import onnx

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "export_gemm_floor.py"


def test_floor_graph_is_the_samplers_matrix_products_only(tmp_path):
    out = tmp_path / "floor.onnx"
    subprocess.run([sys.executable, "-W", "ignore", str(SCRIPT), "--obs", "5", "--act", "3", "--T", "4", "--hidden", "16",
                    "--out", str(out)], check=True)
    ops = Counter(n.op_type for n in onnx.load(str(out)).graph.node)
    # per step: first layer, two hidden layers, output layer (4 x 4); the critic's four layers
    assert ops["Gemm"] + ops["MatMul"] == 4 * 4 + 4
    # no activation or step arithmetic on the candidates (the only Mul/Div/Add are in shape arithmetic)
    assert not ops.keys() & {"Exp", "Clip", "Min", "Tanh", "Softplus", "Sigmoid"}
