// stream.cu - streams, timing events, graph capture/replay and the launch probe.
#include "launch.cuh"
#include "ptx.cuh"

extern "C" int bt_cuda_stream_create(int dev, bt_cuda_stream *out, char *err) {
    *out = NULL;
    cudaStream_t s;
    BT_CUDA_CHECK(cudaSetDevice(dev), "cudaSetDevice");
    BT_CUDA_CHECK(cudaStreamCreate(&s), "cudaStreamCreate");
    *out = (bt_cuda_stream)s;
    return 0;
}

extern "C" int bt_cuda_stream_destroy(int dev, bt_cuda_stream s, char *err) {
    if (!s) return 0;
    BT_CUDA_CHECK(cudaSetDevice(dev), "cudaSetDevice");
    BT_CUDA_CHECK(cudaStreamDestroy((cudaStream_t)s), "cudaStreamDestroy");
    return 0;
}

extern "C" int bt_cuda_stream_synchronize(bt_cuda_queue q, char *err) {
    if (bt_cuda_enter(q, err)) return -1;
    BT_CUDA_CHECK(cudaStreamSynchronize((cudaStream_t)q.stream), "cudaStreamSynchronize");
    return 0;
}

extern "C" int bt_cuda_event_create(int dev, bt_cuda_event *out, char *err) {
    *out = NULL;
    cudaEvent_t ev;
    BT_CUDA_CHECK(cudaSetDevice(dev), "cudaSetDevice");
    BT_CUDA_CHECK(cudaEventCreate(&ev), "cudaEventCreate");
    *out = (bt_cuda_event)ev;
    return 0;
}

extern "C" int bt_cuda_event_destroy(int dev, bt_cuda_event ev, char *err) {
    if (!ev) return 0;
    BT_CUDA_CHECK(cudaSetDevice(dev), "cudaSetDevice");
    BT_CUDA_CHECK(cudaEventDestroy((cudaEvent_t)ev), "cudaEventDestroy");
    return 0;
}

extern "C" int bt_cuda_event_record(bt_cuda_event ev, bt_cuda_queue q, char *err) {
    if (bt_cuda_enter(q, err)) return -1;
    BT_CUDA_CHECK(cudaEventRecord((cudaEvent_t)ev, (cudaStream_t)q.stream), "cudaEventRecord");
    return 0;
}

extern "C" int bt_cuda_stream_wait_event(bt_cuda_queue q, bt_cuda_event ev, char *err) {
    if (bt_cuda_enter(q, err)) return -1;
    BT_CUDA_CHECK(cudaStreamWaitEvent((cudaStream_t)q.stream, (cudaEvent_t)ev, 0), "cudaStreamWaitEvent");
    return 0;
}

extern "C" int bt_cuda_event_elapsed_ms(float *ms, bt_cuda_event start, bt_cuda_event stop, char *err) {
    *ms = 0.0f;
    BT_CUDA_CHECK(cudaEventSynchronize((cudaEvent_t)stop), "cudaEventSynchronize");
    BT_CUDA_CHECK(cudaEventElapsedTime(ms, (cudaEvent_t)start, (cudaEvent_t)stop), "cudaEventElapsedTime");
    return 0;
}

extern "C" int bt_cuda_graph_begin(bt_cuda_queue q, char *err) {
    if (bt_cuda_enter(q, err)) return -1;
    if (!q.stream) return bt_cuda_bad_arg(err, "CUDA graph capture: needs a created stream, not the default stream");
    BT_CUDA_CHECK(cudaStreamBeginCapture((cudaStream_t)q.stream, cudaStreamCaptureModeThreadLocal),
                  "cudaStreamBeginCapture");
    return 0;
}

extern "C" int bt_cuda_graph_end(bt_cuda_graph *out, bt_cuda_queue q, char *err) {
    *out = NULL;
    if (bt_cuda_enter(q, err)) return -1;
    cudaGraph_t graph = NULL;
    BT_CUDA_CHECK(cudaStreamEndCapture((cudaStream_t)q.stream, &graph), "cudaStreamEndCapture");
    cudaGraphExec_t exec = NULL;
    cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    if (e != cudaSuccess) return bt_cuda_fail(e, "cudaGraphInstantiate", err);
    *out = (bt_cuda_graph)exec;
    return 0;
}

extern "C" int bt_cuda_graph_launch(bt_cuda_graph g, bt_cuda_queue q, char *err) {
    if (bt_cuda_enter(q, err)) return -1;
    BT_CUDA_CHECK(cudaGraphLaunch((cudaGraphExec_t)g, (cudaStream_t)q.stream), "cudaGraphLaunch");
    return 0;
}

extern "C" int bt_cuda_graph_destroy(bt_cuda_graph g, char *err) {
    if (!g) return 0;
    BT_CUDA_CHECK(cudaGraphExecDestroy((cudaGraphExec_t)g), "cudaGraphExecDestroy");
    return 0;
}

__global__ void launch_probe_kernel(void) {
    bt_grid_dep_wait();
    bt_grid_dep_launch();
}

extern "C" int bt_cuda_launch_probe(int blocks, int threads, bt_cuda_queue q, char *err) {
    if (blocks < 1 || threads < 1 || threads > 1024)
        return bt_cuda_bad_arg(err, "CUDA launch probe: %d blocks of %d threads", blocks, threads);
    if (bt_cuda_enter(q, err)) return -1;
    return bt_cuda_launch(q, dim3((unsigned)blocks), dim3((unsigned)threads), 0, "launch probe", err,
                          launch_probe_kernel);
}
