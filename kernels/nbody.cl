/* kernels/nbody.cl - one leapfrog-style step of an all-pairs N-body system
 * (1-D range over bodies).
 * Arguments: n, dt, eps2, pos (whole, read: float4 x, y, z, mass per body),
 * vel (split, read-write: float4 vx, vy, vz, unused), pos_out (split, write:
 * float4), tile (__local, one float4 per work-item).
 *
 * Body i: a = sum_j m_j d_ij / (|d_ij|^2 + eps2)^(3/2) with d_ij = p_j - p_i;
 * v += a*dt; p_out = p + v*dt (mass carried over). Every body reads every
 * position (whole argument); positions are staged through __local tiles.
 * The sum is in j order here and in 8 lanes on the CPU (kernels/nbody.c), and
 * rsqrt is not correctly rounded: results agree within float tolerance, not
 * bit for bit. */
#pragma OPENCL FP_CONTRACT OFF

__kernel void weft_nbody(uint n, float dt, float eps2, __global const float4 *pos,
                         __global float4 *vel, __global float4 *pos_out, __local float4 *tile)
{
    size_t i = get_global_id(0), l = get_local_id(0), gs = get_local_size(0);
    float4 p = i < n ? pos[i] : (float4)(0.0f);
    float ax = 0.0f, ay = 0.0f, az = 0.0f;
    for (size_t t0 = 0; t0 < n; t0 += gs) {
        size_t j = t0 + l;
        tile[l] = j < n ? pos[j] : (float4)(0.0f);
        barrier(CLK_LOCAL_MEM_FENCE);
        size_t cnt = n - t0 < gs ? n - t0 : gs;
        for (size_t k = 0; k < cnt; k++) {
            float4 q = tile[k];
            float dx = q.x - p.x, dy = q.y - p.y, dz = q.z - p.z;
            float r2 = dx * dx + dy * dy + dz * dz + eps2;
            float inv = rsqrt(r2);
            float s = q.w * (inv * inv * inv);
            ax += s * dx;
            ay += s * dy;
            az += s * dz;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i < n) {
        float4 v = vel[i];
        v.x += ax * dt;
        v.y += ay * dt;
        v.z += az * dt;
        vel[i] = v;
        pos_out[i] = (float4)(p.x + v.x * dt, p.y + v.y * dt, p.z + v.z * dt, p.w);
    }
}
