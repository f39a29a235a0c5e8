#pragma once

#include <cstddef>
#include <vector>

namespace greenrack::accounting {

// A queue over one contiguous vector: push at the back, pop at the front, random access in
// between. The popped prefix is dropped in one move once it is at least half of the storage, so
// every operation is amortised O(1), and a queue of a few elements costs one small allocation
// (std::deque allocates a 512-byte block and a map for its first element: with tens of
// thousands of short series, that was most of the daemon's memory).
template <typename T> class FrontQueue {
public:
    using iterator = typename std::vector<T>::iterator;
    using const_iterator = typename std::vector<T>::const_iterator;

    bool empty() const { return head_ == items_.size(); }
    std::size_t size() const { return items_.size() - head_; }
    std::size_t capacity() const { return items_.capacity(); } // elements the storage holds

    iterator begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
    iterator end() { return items_.end(); }
    const_iterator begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
    const_iterator end() const { return items_.end(); }

    T& front() { return items_[head_]; }
    const T& front() const { return items_[head_]; }
    T& back() { return items_.back(); }
    const T& back() const { return items_.back(); }
    T& operator[](std::size_t i) { return items_[head_ + i]; }
    const T& operator[](std::size_t i) const { return items_[head_ + i]; }

    void push_back(const T& item) {
        if (head_ > 0 && head_ * 2 >= items_.size() && items_.size() == items_.capacity()) {
            compact(); // reuse the popped slots instead of growing
        }
        items_.push_back(item);
    }
    void pop_front() {
        ++head_;
        if (head_ == items_.size()) {
            items_.clear();
            head_ = 0;
        }
    }
    void clear() {
        items_.clear();
        head_ = 0;
    }

private:
    void compact() {
        items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }

    std::vector<T> items_;
    std::size_t head_ = 0; // index of the front element
};

} // namespace greenrack::accounting
