#!/bin/bash
# A Megatron-LM launch script in the shape of Megatron-LM's examples/*/train_*.sh.
# lrkit reads it without running it: lrkit show src/lrkit/examples/megatron_pretrain.sh

GPUS_PER_NODE=8
NUM_NODES=${NUM_NODES:-1}
CHECKPOINT_PATH=$1   # given when the script is run; it does not decide the curve
GBS=${GBS:-512}
WARMUP=$((2 * 1000))

DISTRIBUTED_ARGS=(
    --nproc_per_node $GPUS_PER_NODE
    --nnodes $NUM_NODES
)

TRAINING_ARGS=(
    --micro-batch-size 2
    --global-batch-size $GBS
    --train-iters 100000
    --lr 3.0e-4
    --min-lr 3.0e-5
    --lr-decay-style cosine
    --lr-warmup-iters $WARMUP
    --lr-warmup-init 1.5e-7
    --lr-decay-iters 100000
    --weight-decay 0.1
)

torchrun ${DISTRIBUTED_ARGS[@]} pretrain_gpt.py \
    ${TRAINING_ARGS[@]} \
    --save $CHECKPOINT_PATH \
    --load $CHECKPOINT_PATH
